"""Instants given by clients (`_since`, `until` …): a value without an offset is Paris time (DESIGN.md)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from .errors import BadRequest

PARIS = ZoneInfo("Europe/Paris")


_SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:\d{2})$")


def query_offset(text: str) -> str:
    """A '+' of an offset that a client left unescaped in a query string arrives as a space (HAPI's client
    sends `_since=2026-12-01T18:31:52.466+00:00` as is, and HAPI's server reads it back): restore it."""
    return _SPACED_OFFSET.sub(r"\1+\2", text)


def parse_instant(value: str, name: str) -> datetime:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if t.tzinfo is None:
            t = t.replace(tzinfo=PARIS)
        return t.astimezone(timezone.utc)
    except (ValueError, OverflowError):   # OverflowError: year 1 or 9999 pushed out of range by the offset
        raise BadRequest(f"{name}: '{value[:40]}' is not a date or instant (e.g. 2026-01-31T10:00:00+01:00)",
                         expression=name) from None
