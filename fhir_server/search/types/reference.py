"""Reference parameters (https://hl7.org/fhir/R4/search.html#reference).

Index value `_idx.<code>`: `r`, one array served by one index, holding for each reference
    "Type/id" (relative; an absolute URL under our base is made relative, a version is dropped) and "id",
    or the absolute URL / canonical as written (and without its `|version`);
    "  system|value" for a logical reference by identifier (`:identifier`).
`s` is the first reference, the sort key.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from fhir_server.search.expressions import REMEMBERED_LENGTH, Node
from fhir_server.search.types.base import CompileContext, ExtractContext, any_of, bad_value, unsupported_modifier

MODIFIERS = frozenset({"missing", "identifier", "[type]"})
PRESENCE = "r"
SORT_TYPE = str
IDENTIFIER = "  "

_ID = r"[A-Za-z0-9\-\.]{1,64}"
_RELATIVE = re.compile(rf"(?P<type>[A-Z][A-Za-z]+)/(?P<id>{_ID})(?:/_history/[^/]+)?")


def _relative(url: str, base_url: str | None) -> str:
    if base_url and url.startswith(base_url.rstrip("/") + "/"):
        return url[len(base_url.rstrip("/")) + 1:]
    return url


def _entries(value: Any, fhir_type: str | None, base_url: str | None) -> list[str]:
    if isinstance(value, str):          # canonical / uri
        return [value, value.split("|")[0]] if "|" in value else [value]
    if not isinstance(value, dict):
        return []
    out: list[str] = []
    ref = value.get("reference")
    if isinstance(ref, str) and ref and not ref.startswith("#"):
        out += _literal_entries(ref, base_url)
    ident = value.get("identifier")
    if isinstance(ident, dict) and isinstance(ident.get("value"), str):
        out.append(f"{IDENTIFIER}{ident.get('system') or ''}|{ident['value']}")
    return out


def _literal_entries(ref: str, base_url: str | None) -> tuple[str, ...]:
    return _reference_entries(ref, base_url) if len(ref) <= REMEMBERED_LENGTH \
        else _reference_entries.__wrapped__(ref, base_url)


@lru_cache(maxsize=65536)
def _reference_entries(ref: str, base_url: str | None) -> tuple[str, ...]:
    """The entries of a literal reference (the same few patients, documents and authors are referred to again and
    again: one regular expression match each)."""
    rel = _relative(ref, base_url)
    m = _RELATIVE.fullmatch(rel)
    return (f"{m['type']}/{m['id']}", m["id"]) if m else (rel,)


def extract(nodes: list[Node], ctx: ExtractContext) -> dict | None:
    entries: set[str] = set()
    base_url = ctx.base_url
    for value, fhir_type in nodes:
        if type(value) is dict and "identifier" not in value:       # a literal reference alone: most of them
            ref = value.get("reference")
            if isinstance(ref, str) and ref and not ref.startswith("#"):
                entries.update(_literal_entries(ref, base_url))
        else:
            entries.update(_entries(value, fhir_type, base_url))
    if not entries:
        return None
    ordered = sorted(entries)
    first = ""
    for entry in ordered:
        if not entry.startswith(" "):     # the sort key is a reference, not an identifier
            first = entry
            break
    return {"r": ordered, "s": first}


def normalise(value: str, type_modifier: str | None, ctx: CompileContext) -> str:
    """The stored form a searched reference must equal; BadRequest when it cannot be a reference here."""
    rel = _relative(value, ctx.base_url)
    if "/" not in rel:
        if not re.fullmatch(_ID, rel):
            raise bad_value(ctx.code, value, "not a resource id")
        if type_modifier:
            return f"{type_modifier}/{rel}"
        return rel
    m = _RELATIVE.fullmatch(rel)
    if m is None:
        if re.match(r"^[a-z][a-z0-9+.\-]*:", rel):      # an absolute URL or canonical elsewhere
            return rel
        raise bad_value(ctx.code, value, "expected [type]/[id], [id] or an absolute URL")
    if m["type"] not in ctx.known_types:
        raise bad_value(ctx.code, value, f"unknown resource type '{m['type']}'")
    if ctx.targets and m["type"] not in ctx.targets:
        raise bad_value(ctx.code, value, f"'{ctx.code}' does not refer to {m['type']} "
                                         f"(it refers to {', '.join(ctx.targets)})")
    if type_modifier and m["type"] != type_modifier:
        raise bad_value(ctx.code, value, f"the value is not a {type_modifier}")
    return f"{m['type']}/{m['id']}"


def compile(field: str, modifier: str | None, values: list[str], ctx: CompileContext) -> dict:
    key = f"{field}.r"
    if modifier == "identifier":
        out = []
        for v in values:
            parts = re.split(r"(?<!\\)\|", v)
            if len(parts) != 2 or not parts[1]:
                raise bad_value(ctx.code, v, "':identifier' needs system|value")
            out.append({key: IDENTIFIER + "|".join(p.replace("\\|", "|") for p in parts)})
        return any_of(out)
    if modifier is not None and modifier not in ctx.known_types:
        raise unsupported_modifier(ctx.code, modifier)
    if modifier is not None and ctx.targets and modifier not in ctx.targets:
        raise bad_value(ctx.code, modifier, f"'{ctx.code}' does not refer to {modifier}")
    wanted = set()
    for v in values:
        wanted.add(normalise(v, modifier, ctx))
        if ctx.base_url and v.startswith(ctx.base_url.rstrip("/") + "/"):
            wanted.add(v)           # also as written, in case it was indexed without knowing our base
    return {key: wanted.pop()} if len(wanted) == 1 else {key: {"$in": sorted(wanted)}}


def index_keys(field: str) -> list[list[tuple[str, int]]]:
    return [[(f"{field}.r", 1)]]
