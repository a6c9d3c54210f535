"""Loading `seed_data/`: each file is a transaction Bundle, sent through the same dispatcher as any
client's, as a trusted system actor (so every seeded resource is validated, indexed and versioned)."""

from __future__ import annotations

from pathlib import Path

import orjson

from .auth.actor import Actor, Scope
from .config import Settings
from .services.context import Context, Interaction
from .services.dispatch import dispatch
from .storage.mongo import MongoStore

SEED_ACTOR = Actor(reference="Device/dmp-fhir-seed", scopes=(Scope("system", "*", "cruds"),))


def default_seed_dir() -> Path:
    here = Path(__file__).resolve().parent.parent / "seed_data"
    return here if here.is_dir() else Path.cwd() / "seed_data"


def load_seed(store: MongoStore, settings: Settings, seed_dir: Path | None = None) -> int:
    """Idempotent: entries are PUTs with fixed ids and unchanged content makes no new version."""
    seed_dir = seed_dir or default_seed_dir()
    ctx = Context(store=store, settings=settings, actor=SEED_ACTOR, base_url=settings.public_base(),
                  prefer_return="minimal")
    count = 0
    for path in sorted(seed_dir.glob("*.json")):
        bundle = orjson.loads(path.read_bytes())
        if bundle.get("resourceType") != "Bundle":
            continue
        dispatch(ctx, Interaction(kind="bundle", method="POST", body=bundle))
        count += len(bundle.get("entry") or [])
    return count
