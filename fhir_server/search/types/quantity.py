"""Quantity parameters (https://hl7.org/fhir/R4/search.html#quantity): `[prefix]number|system|code`.

Index value `_idx.<code>`: `q`, a list of {v: value, sc: "system|code", c: code, u: unit}, and `s`, the
smallest value (sort key). `number||code` matches the code or the unit text; `number|system|code` both.
Units are compared as written (no UCUM conversion).
"""

from __future__ import annotations

import re

from fhir_server.search.expressions import Node
from fhir_server.search.types.base import CompileContext, ExtractContext, any_of, bad_value, unsupported_modifier
from fhir_server.search.types.date import split_prefix
from fhir_server.search.types.number import _number, condition, parse_number

MODIFIERS = frozenset({"missing"})
PRESENCE = "q.v"
SORT_TYPE = float


def _quantity(value) -> dict | None:
    if not isinstance(value, dict) or _number(value.get("value")) is None:
        return None
    out = {"v": float(value["value"])}
    if value.get("code"):
        out["c"] = value["code"]
        out["sc"] = f"{value.get('system', '')}|{value['code']}"
    if value.get("unit"):
        out["u"] = value["unit"]
    return out


def extract(nodes: list[Node], ctx: ExtractContext) -> dict | None:
    found = [q for n in nodes if (q := _quantity(n.value))]
    if not found:
        return None
    unique = [dict(t) for t in sorted({tuple(sorted(q.items())) for q in found})]
    return {"q": unique, "s": min(q["v"] for q in unique)}


def _one(field: str, value: str, ctx: CompileContext) -> dict:
    parts = [p.replace("\\|", "|") for p in re.split(r"(?<!\\)\|", value)]
    if len(parts) not in (1, 3):
        raise bad_value(ctx.code, value, "expected [prefix]number or [prefix]number|system|code")
    prefix, text = split_prefix(parts[0], ctx.code)
    number, half = parse_number(text, ctx.code)
    unit: dict = {}
    if len(parts) == 3:
        system, code = parts[1], parts[2]
        if system:
            unit = {"sc": f"{system}|{code}"}
        elif code:
            unit = {"$or": [{"c": code}, {"u": code}]}
    if prefix == "ne":
        return {"$or": [{f"{field}.q": {"$elemMatch": {"v": {"$lt": number - half}, **unit}}},
                        {f"{field}.q": {"$elemMatch": {"v": {"$gte": number + half}, **unit}}}]}
    return {f"{field}.q": {"$elemMatch": {"v": condition(prefix, number, half), **unit}}}


def compile(field: str, modifier: str | None, values: list[str], ctx: CompileContext) -> dict:
    if modifier is not None:
        raise unsupported_modifier(ctx.code, modifier)
    return any_of([_one(field, v, ctx) for v in values])


def index_keys(field: str) -> list[list[tuple[str, int]]]:
    return [[(f"{field}.q.v", 1)]]
