"""read and vread: https://hl7.org/fhir/R4/http.html#read, #vread"""

from __future__ import annotations

from ..errors import Gone, Hidden, NotFound
from ..limits import whole_number
from ..storage.mongo import HISTORY
from ..storage.base import Stored
from .context import Context, Interaction, Outcome
from .guard import check_readable


def read(ctx: Context, it: Interaction) -> Outcome:
    return outcome_of(readable_current(ctx, it.resource_type, it.id))


def vread(ctx: Context, it: Interaction) -> Outcome:
    version = whole_number(it.version)
    if version is None:
        raise NotFound(f"no version '{(it.version or '')[:40]}' of {it.resource_type}/{it.id}")
    checked_doc(ctx, it.resource_type, it.id)     # the policy judges the resource as it is now …
    stored = ctx.store.vread(it.resource_type, it.id, version)
    if stored is None:
        raise NotFound(f"{it.resource_type}/{it.id}/_history/{it.version} not found")
    if stored.acl is not None:                    # … and the version on its own record and labels
        try:
            check_readable(ctx, it.resource_type, {"_id": f"{it.resource_type}/{it.id}/{stored.version}",
                                                   "id": it.id, "_acl": stored.acl}, collection=HISTORY, traced=False)
        except Hidden:
            raise Hidden(f"{it.resource_type}/{it.id}/_history/{it.version} not found") from None
    if stored.deleted:
        raise Gone(f"version {it.version} of {it.resource_type}/{it.id} is its deletion")
    return outcome_of(stored)


def checked_doc(ctx: Context, resource_type: str, id: str) -> dict:
    """The current stored document (deleted or not, without its search index) once the policy let the actor see
    it; else 403/404."""
    doc = ctx.store.read_doc(resource_type, id, index=False)
    if doc is None:
        raise NotFound(f"{resource_type}/{id} not found")
    check_readable(ctx, resource_type, doc)
    return doc


def readable_current(ctx: Context, resource_type: str, id: str) -> Stored:
    """The live current version the actor may see, else 404 (none or hidden), 403 or 410 (deleted)."""
    doc = checked_doc(ctx, resource_type, id)
    stored = Stored.from_doc(resource_type, doc)
    if stored.deleted:
        raise Gone(f"{resource_type}/{id} was deleted (version {stored.version})")
    return stored


def outcome_of(stored: Stored, status: int = 200, *, created: bool = False) -> Outcome:
    return Outcome(status, stored.resource, stored.resource_type, stored.id, stored.version,
                   stored.last_updated, created=created)
