"""Date parameters (https://hl7.org/fhir/R4/search.html#date), on date, dateTime, instant and Period.

Every value, stored or searched, is a range [lo, hi) of UTC instants (timezone-aware UTC datetimes,
millisecond precision as in BSON) honouring its precision: `2024` is the whole year, `2024-03-01T10:00` one minute.
A value without an offset is Europe/Paris time (DESIGN.md), so `2024-03-01` is
[2024-02-29T23:00Z, 2024-03-01T23:00Z). A Period is [start.lo, end.hi), open sides unbounded.

Index value `_idx.<code>`: `r`, a list of {lo, hi}, and `s`, the earliest lo (sort key).
Prefixes follow the spec's range semantics; each is an `$elemMatch` so lo and hi come from the same
value, served by the (r.lo, r.hi) index or, for conditions on hi alone, the (r.hi) index.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from fhir_server.instants import query_offset
from fhir_server.search.expressions import Node
from fhir_server.search.types.base import CompileContext, ExtractContext, any_of, bad_value, unsupported_modifier

MODIFIERS = frozenset({"missing"})
PRESENCE = "r.lo"
SORT_TYPE = datetime
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")

PARIS = ZoneInfo("Europe/Paris")
MIN = datetime(1, 1, 1, tzinfo=timezone.utc)
MAX = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc)

_DATE_RE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?"
)


def _to_utc(local: datetime, tz: str | None) -> datetime:
    if tz is None:
        aware = local.replace(tzinfo=PARIS)
    elif tz == "Z":
        aware = local.replace(tzinfo=timezone.utc)
    else:
        sign = 1 if tz[0] == "+" else -1
        hours, minutes = int(tz[1:3]), int(tz[4:6])
        if hours > 14 or minutes > 59:
            raise ValueError("offset out of range")
        aware = local.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    try:
        return aware.astimezone(timezone.utc)
    except OverflowError:
        return MIN if local.year < 5000 else MAX


def _plus(d: datetime, step: timedelta, bound: datetime = datetime.max) -> datetime:
    """`d + step`, or `bound` past the years 1-9999 (the last day of 9999 ends at the end of time)."""
    try:
        return d + step
    except OverflowError:
        return bound


def _add_months(d: datetime, months: int) -> datetime:
    total = d.year * 12 + d.month - 1 + months
    if total // 12 > 9999:
        return datetime.max
    return d.replace(year=total // 12, month=total % 12 + 1)


@lru_cache(maxsize=65536)
def parse_range(text: str) -> tuple[datetime, datetime]:
    """The [lo, hi) UTC range a FHIR date/dateTime/instant denotes; ValueError if malformed."""
    return _utc_milliseconds(text) or _parsed_range(text)


_UTC_MILLISECONDS = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z")


def _utc_milliseconds(text: str) -> tuple[datetime, datetime] | None:
    """`YYYY-MM-DDThh:mm:ss.fffZ`, the form the server writes (meta.lastUpdated, every trace's recorded): what
    `_parsed_range` gives for it, by one plain pattern (no named groups, no offset to apply), in a third of the time
    (every trace parses a new one). None for any other form."""
    m = _UTC_MILLISECONDS.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, milli = m.groups()
    start = datetime(int(year), int(month), int(day), int(hour), int(minute), min(int(second), 59),
                     int(milli) * 1000, timezone.utc)
    return start, _plus(start, ONE_MILLISECOND, MAX)


ONE_MILLISECOND = timedelta(milliseconds=1)


def _parsed_range(text: str) -> tuple[datetime, datetime]:
    m = _DATE_RE.fullmatch(text.strip())
    if not m:
        raise ValueError("not a FHIR date")
    y, mo, d = int(m["y"]), int(m["m"] or 1), int(m["d"] or 1)
    if m["H"] is not None:
        sec = int(m["S"] or 0)
        micro = int((m["f"] or "0")[:3].ljust(3, "0")) * 1000
        start = datetime(y, mo, d, int(m["H"]), int(m["M"]), min(sec, 59), micro)
        if int(m["H"]) > 23:
            raise ValueError("hour out of range")
        step = timedelta(milliseconds=1) if m["f"] else timedelta(seconds=1) if m["S"] else timedelta(minutes=1)
        end = _plus(start, step)
    else:
        start = datetime(y, mo, d)
        end = _plus(start, timedelta(days=1)) if m["d"] else _add_months(start, 1 if m["m"] else 12)
    tz = m["tz"]
    return _to_utc(start, tz), (_to_utc(end, tz) if end != datetime.max else MAX)


def _ranges(node: Node) -> list[tuple[datetime, datetime]]:
    value = node.value
    try:
        if isinstance(value, str):
            return [parse_range(value)]
        if isinstance(value, dict) and ("start" in value or "end" in value):
            lo = parse_range(value["start"])[0] if value.get("start") else MIN
            hi = parse_range(value["end"])[1] if value.get("end") else MAX
            return [(lo, max(lo, hi))]
    except (ValueError, TypeError):
        pass
    return []


def extract(nodes: list[Node], ctx: ExtractContext) -> dict | None:
    # one value (an instant, a recorded date: most of them) has at most one range: nothing to merge or order
    ranges = _ranges(nodes[0]) if len(nodes) == 1 else sorted({r for n in nodes for r in _ranges(n)})
    if not ranges:
        return None
    return {"r": [{"lo": lo, "hi": hi} for lo, hi in ranges], "s": ranges[0][0]}


def split_prefix(value: str, code: str) -> tuple[str, str]:
    if len(value) > 2 and value[:2].isalpha():
        prefix = value[:2]
        if prefix not in PREFIXES:
            raise bad_value(code, value, f"unknown prefix '{prefix}' (use one of {', '.join(PREFIXES)})")
        return prefix, value[2:]
    return "eq", value


def _match(field: str, cond: dict) -> dict:
    return {f"{field}.r": {"$elemMatch": cond}}


def _one(field: str, value: str, ctx: CompileContext) -> dict:
    prefix, text = split_prefix(value, ctx.code)
    text = query_offset(text)
    try:
        lo, hi = parse_range(text)
    except (ValueError, OverflowError) as exc:
        raise bad_value(ctx.code, value, "expected a date like 2024, 2024-03, 2024-03-01 or "
                                         "2024-03-01T10:00:00+01:00") from exc
    inside = _match(field, {"lo": {"$gte": lo}, "hi": {"$lte": hi}})
    if prefix == "eq":
        return inside
    if prefix == "ne":
        return {"$or": [_match(field, {"lo": {"$lt": lo}}), _match(field, {"hi": {"$gt": hi}})]}
    if prefix == "gt":
        return _match(field, {"hi": {"$gt": hi}})
    if prefix == "lt":
        return _match(field, {"lo": {"$lt": lo}})
    if prefix == "ge":
        return {"$or": [_match(field, {"hi": {"$gt": hi}}), inside]}
    if prefix == "le":
        return {"$or": [_match(field, {"lo": {"$lt": lo}}), inside]}
    if prefix == "sa":
        return _match(field, {"lo": {"$gte": hi}})
    if prefix == "eb":
        return _match(field, {"hi": {"$lte": lo}})
    now = ctx.now or datetime.now(timezone.utc)   # ap: 10% of the distance to now, ≥ 1 day
    margin = max(abs(now - lo) / 10, timedelta(days=1))
    return _match(field, {"lo": {"$lt": _plus(hi, margin, MAX)}, "hi": {"$gt": _plus(lo, -margin, MIN)}})


def compile(field: str, modifier: str | None, values: list[str], ctx: CompileContext) -> dict:
    if modifier is not None:
        raise unsupported_modifier(ctx.code, modifier)
    return any_of([_one(field, v, ctx) for v in values])


def index_keys(field: str) -> list[list[tuple[str, int]]]:
    return [[(f"{field}.r.lo", 1), (f"{field}.r.hi", 1)], [(f"{field}.r.hi", 1)]]
