"""Loading `seed_data/`: each file is a transaction Bundle, sent through the same dispatcher as any
client's, as a trusted system actor (so every seeded resource is validated, indexed and versioned).

The stories of seed_data/README.md are told on STORY_DAY. The seed is loaded as if the day it is loaded were that
day: every date in it moves by the days between the two. Its stories (a document hidden from its holder for at
most a month, authorisations running or expired, a minor's age) so hold whatever day the server starts; with fixed
dates they would lapse one after the other."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import orjson

from .auth.actor import Actor, Scope
from .config import Settings
from .services.context import Context, Interaction
from .services.dispatch import dispatch
from .storage.mongo import MongoStore, now_ms

SEED_ACTOR = Actor(reference="Device/dmp-fhir-seed", scopes=(Scope("system", "*", "cruds"),))


def default_seed_dir() -> Path:
    here = Path(__file__).resolve().parent.parent / "seed_data"
    return here if here.is_dir() else Path.cwd() / "seed_data"


STORY_DAY = date(2026, 11, 22)
# a FHIR date, dateTime or instant (a partial date, "1979" or "1979-03", names no day and stays as it is)
_DAY_DATED = re.compile(r"(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?")


def load_seed(store: MongoStore, settings: Settings, seed_dir: Path | None = None, day: date | None = None) -> int:
    """Idempotent on one day: entries are PUTs with fixed ids and unchanged content makes no new version (loaded
    on another day, the dates have moved: new versions). `day`: the day the stories are told on (today, UTC)."""
    seed_dir = seed_dir or default_seed_dir()
    ctx = Context(store=store, settings=settings, actor=SEED_ACTOR, base_url=settings.public_base(),
                  prefer_return="minimal")
    shift = ((day or now_ms().date()) - STORY_DAY).days
    count = 0
    for path in sorted(seed_dir.glob("*.json")):
        bundle = orjson.loads(path.read_bytes())
        if bundle.get("resourceType") != "Bundle":
            continue
        dispatch(ctx, Interaction(kind="bundle", method="POST", body=moved(bundle, shift)))
        count += len(bundle.get("entry") or [])
    return count


def moved(value, days: int):
    """`value` with the day of every date, dateTime and instant in it moved by `days` (time and offset kept)."""
    if not days:
        return value
    if isinstance(value, dict):
        return {key: moved(item, days) for key, item in value.items()}
    if isinstance(value, list):
        return [moved(item, days) for item in value]
    if isinstance(value, str):
        match = _DAY_DATED.fullmatch(value)
        if match:
            try:
                return (date.fromisoformat(match[1]) + timedelta(days=days)).isoformat() + value[10:]
            except (ValueError, OverflowError):     # not a calendar day, or out of range: left to the validation
                return value
    return value
