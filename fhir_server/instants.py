"""Instants given by clients (`_since`, `until` …): a value without an offset is Paris time (DESIGN.md)."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from .errors import BadRequest

PARIS = ZoneInfo("Europe/Paris")


def parse_instant(value: str, name: str) -> datetime:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if t.tzinfo is None:
            t = t.replace(tzinfo=PARIS)
        return t.astimezone(timezone.utc)
    except (ValueError, OverflowError):   # OverflowError: year 1 or 9999 pushed out of range by the offset
        raise BadRequest(f"{name}: '{value[:40]}' is not a date or instant (e.g. 2026-01-31T10:00:00+01:00)",
                         expression=name) from None
