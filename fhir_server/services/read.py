"""read and vread: https://hl7.org/fhir/R4/http.html#read, #vread"""

from __future__ import annotations

from ..errors import Gone, NotFound
from ..storage.base import Stored
from .context import Context, Interaction, Outcome


def read(ctx: Context, it: Interaction) -> Outcome:
    stored = current_or_error(ctx, it.resource_type, it.id)
    return outcome_of(stored)


def vread(ctx: Context, it: Interaction) -> Outcome:
    if not (it.version or "").isdigit():
        raise NotFound(f"no version '{it.version}' of {it.resource_type}/{it.id}")
    stored = ctx.store.vread(it.resource_type, it.id, int(it.version))
    if stored is None:
        raise NotFound(f"{it.resource_type}/{it.id}/_history/{it.version} not found")
    if stored.deleted:
        raise Gone(f"version {it.version} of {it.resource_type}/{it.id} is its deletion")
    return outcome_of(stored)


def current_or_error(ctx: Context, resource_type: str, id: str) -> Stored:
    """The live current version, else 404 (never existed) or 410 (deleted)."""
    stored = ctx.store.read(resource_type, id)
    if stored is None:
        raise NotFound(f"{resource_type}/{id} not found")
    if stored.deleted:
        raise Gone(f"{resource_type}/{id} was deleted (version {stored.version})")
    return stored


def outcome_of(stored: Stored, status: int = 200, *, created: bool = False) -> Outcome:
    return Outcome(status, stored.resource, stored.resource_type, stored.id, stored.version,
                   stored.last_updated, created=created)
