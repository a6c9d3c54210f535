"""Composite parameters (https://hl7.org/fhir/R4/search.html#composite): `code$value`, as
`Observation?code-value-quantity=http://loinc.org|8480-6$gt100`.

The composite's expression picks the nodes (an Observation, each Observation.component …); within one
node every component is extracted by its own type module. Index value `_idx.<code>`:
`c`, one {"c0": <component 0 index value>, "c1": …} per node (not "0": a digit would read as an array index), so a query's components must all hold on the same
node (an `$elemMatch`), served by the index on the first component.
"""

from __future__ import annotations

import re

from fhir_server.search.expressions import Node
from fhir_server.search.types.base import CompileContext, ExtractContext, all_of, any_of, bad_value, \
    unsupported_modifier

MODIFIERS = frozenset({"missing"})
PRESENCE = "c"          # `:missing` tests the first component (compile.py), which the index holds
SORT_TYPE = None


def extract(nodes: list[Node], ctx: ExtractContext) -> dict | None:
    from fhir_server.search.types import TYPES
    rows = []
    for node in nodes:
        if not isinstance(node.value, dict):
            continue
        row = {}
        for i, (kind, expression) in enumerate(ctx.components):
            value = TYPES[kind].extract(expression(node.value), ExtractContext(ctx.code, ctx.base_url))
            if value is None:
                break
            value.pop("s", None)
            row[f"c{i}"] = value
        else:
            rows.append(row)
    return {"c": rows} if rows else None


def compile(field: str, modifier: str | None, values: list[str], ctx: CompileContext) -> dict:
    from fhir_server.search.types import TYPES
    if modifier is not None:
        raise unsupported_modifier(ctx.code, modifier)
    out = []
    for value in values:
        parts = [p.replace("\\$", "$") for p in re.split(r"(?<!\\)\$", value)]
        if len(parts) != len(ctx.components):
            raise bad_value(ctx.code, value, f"expected {len(ctx.components)} components separated by '$'")
        conditions = [TYPES[kind].compile(f"c{i}", None, [part], ctx)
                      for i, (kind, part) in enumerate(zip(ctx.components, parts))]
        out.append({f"{field}.c": {"$elemMatch": all_of(conditions)}})
    return any_of(out)


def index_keys(field: str, first_kind: str = "token") -> list[list[tuple[str, int]]]:
    from fhir_server.search.types import TYPES
    return [[(f"{field}.c.{key}", d) for key, d in TYPES[first_kind].index_keys("c0")[0]]]
