"""Number parameters (https://hl7.org/fhir/R4/search.html#number).

Index value `_idx.<code>`: `n`, the numbers, and `s`, the smallest (sort key).
`eq` honours the precision of the searched value (`100` is [99.5, 100.5), `100.0` is [99.95, 100.05));
the other prefixes compare with the value itself; `ap` is within 10%.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from fhir_server.search.expressions import Node
from fhir_server.search.types.base import CompileContext, ExtractContext, any_of, bad_value, unsupported_modifier
from fhir_server.search.types.date import split_prefix

MODIFIERS = frozenset({"missing"})
PRESENCE = "n"
SORT_TYPE = float


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def extract(nodes: list[Node], ctx: ExtractContext) -> dict | None:
    numbers = sorted({x for n in nodes if (x := _number(n.value)) is not None})
    return {"n": numbers, "s": numbers[0]} if numbers else None


def parse_number(text: str, code: str) -> tuple[float, float]:
    """The value and half its precision step: '100' → (100.0, 0.5)."""
    try:
        dec = Decimal(text)
    except InvalidOperation:
        raise bad_value(code, text, "not a number") from None
    if not dec.is_finite():
        raise bad_value(code, text, "not a finite number")
    try:
        number, half = float(dec), 0.5 * 10.0 ** dec.as_tuple().exponent
    except OverflowError:                   # 1e400 is a float infinity; 0e999 a precision of 10^999
        number = half = math.inf
    if not (math.isfinite(number) and math.isfinite(half)):
        raise bad_value(code, text, "not a finite number within the range of a double (about 1e308)")
    return number, half


def condition(prefix: str, number: float, half: float) -> dict:
    """The Mongo condition one number must meet (used on plain numbers and quantity values)."""
    if prefix == "eq":
        return {"$gte": number - half, "$lt": number + half}
    if prefix in ("gt", "sa"):
        return {"$gt": number}
    if prefix in ("lt", "eb"):
        return {"$lt": number}
    if prefix == "ge":
        return {"$gte": number}
    if prefix == "le":
        return {"$lte": number}
    if prefix == "ap":
        margin = abs(number) / 10
        return {"$gte": number - margin, "$lte": number + margin}
    raise AssertionError(prefix)


def _one(field: str, value: str, ctx: CompileContext) -> dict:
    prefix, text = split_prefix(value, ctx.code)
    number, half = parse_number(text, ctx.code)
    key = f"{field}.n"
    if prefix == "ne":
        return {"$or": [{key: {"$elemMatch": {"$lt": number - half}}}, {key: {"$elemMatch": {"$gte": number + half}}}]}
    return {key: {"$elemMatch": condition(prefix, number, half)}}


def compile(field: str, modifier: str | None, values: list[str], ctx: CompileContext) -> dict:
    if modifier is not None:
        raise unsupported_modifier(ctx.code, modifier)
    return any_of([_one(field, v, ctx) for v in values])


def index_keys(field: str) -> list[list[tuple[str, int]]]:
    return [[(f"{field}.n", 1)]]
