"""URI parameters (https://hl7.org/fhir/R4/search.html#uri).

Index value `_idx.<code>`: `u`, the URIs as written (and a canonical without its `|version`), `s` the first.
`:below` is an anchored prefix (served by the index); `:above` is the set of the value's path prefixes.
"""

from __future__ import annotations

from fhir_server.search.expressions import Node
from fhir_server.search.types.base import CompileContext, ExtractContext, any_of, prefix_regex, unsupported_modifier

MODIFIERS = frozenset({"below", "above", "missing"})
PRESENCE = "u"
SORT_TYPE = str


def extract(nodes: list[Node], ctx: ExtractContext) -> dict | None:
    uris = set()
    for n in nodes:
        if isinstance(n.value, str) and n.value:
            uris.add(n.value)
            uris.add(n.value.split("|")[0])
    return {"u": sorted(uris), "s": min(uris)} if uris else None


def _above(value: str) -> list[str]:
    """http://a.org/fhir/ValueSet/x → every prefix ending at a '/' boundary, and the value itself."""
    head, sep, rest = value.partition("://")
    parts = rest.split("/") if sep else value.split("/")
    prefixes = []
    for i in range(1, len(parts) + 1):
        path = "/".join(parts[:i])
        prefixes.append(f"{head}://{path}" if sep else path)
    return prefixes


def _one(field: str, modifier: str | None, value: str) -> dict:
    key = f"{field}.u"
    if modifier == "below":
        return {key: prefix_regex(value)}
    if modifier == "above":
        return {key: {"$in": _above(value)}}
    return {key: value}


def compile(field: str, modifier: str | None, values: list[str], ctx: CompileContext) -> dict:
    if modifier not in (None, "below", "above"):
        raise unsupported_modifier(ctx.code, modifier)
    return any_of([_one(field, modifier, v) for v in values])


def index_keys(field: str) -> list[list[tuple[str, int]]]:
    return [[(f"{field}.u", 1)]]
