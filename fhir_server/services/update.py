"""update (and update-as-create, conditional update): https://hl7.org/fhir/R4/http.html#update"""

from __future__ import annotations

from ..access.decisions import UPDATE_AS_CREATE_FOR_TRUSTED_SYSTEMS_ONLY
from ..errors import BadRequest, Conflict, Hidden, NotFound
from ..storage.base import Stored
from .conditional import resolve_single
from .context import Context, Interaction, Outcome
from .guard import check_readable
from .create import insert_new
from .read import outcome_of
from .writing import (check_if_match, checked_write, expected_version, new_id, raise_conflict_as_412,
                      same_content, store_version)


def update(ctx: Context, it: Interaction) -> Outcome:
    body = checked_write(ctx, it.body, it.resource_type, it.id)
    if it.id is None:
        return _conditional_update(ctx, it, body)
    if body.get("id") is None:
        raise BadRequest("the resource body must carry the id of the URL", expression=f"{it.resource_type}.id")
    if body["id"] != it.id:
        raise BadRequest(f"body id '{body['id']}' differs from the URL id '{it.id}'", expression=f"{it.resource_type}.id")
    return replace(ctx, it.resource_type, it.id, body, it.if_match)


def _conditional_update(ctx: Context, it: Interaction, body: dict) -> Outcome:
    match = resolve_single(ctx, it.resource_type, it.params, "update")
    if match is None:
        if not body.get("id"):
            return insert_new(ctx, it.resource_type, new_id(), body)
        # the store is read only through the policy: a hidden resource is an absent one (replace says so)
        if visible_current(ctx, it.resource_type, body["id"]) is not None:
            raise Conflict(f"{it.resource_type}/{body['id']} exists but does not match the conditional update")
        return replace(ctx, it.resource_type, body["id"], body, it.if_match)
    if body.get("id") not in (None, match.id):
        raise BadRequest(f"body id '{body['id']}' differs from the matched resource '{match.id}'",
                         expression=f"{it.resource_type}.id")
    return replace(ctx, it.resource_type, match.id, body, it.if_match)


def visible_current(ctx: Context, resource_type: str, id: str) -> Stored | None:
    """The live current version when the actor may see it; None when it is absent, deleted or hidden
    (403 stays for a record refused as a whole: the Patient)."""
    current = ctx.store.read(resource_type, id)
    if current is None or current.deleted:
        return None
    try:
        check_readable(ctx, resource_type, {"_id": id, "_acl": current.acl or {}})
    except Hidden:
        return None
    return current


def replace(ctx: Context, resource_type: str, id: str, body: dict, if_match: str | None) -> Outcome:
    current = ctx.store.read(resource_type, id)
    if current is not None and not current.deleted:
        try:
            check_readable(ctx, resource_type, {"_id": id, "_acl": current.acl or {}})
        except Hidden:
            raise Hidden(_absent(resource_type, id)) from None
    elif UPDATE_AS_CREATE_FOR_TRUSTED_SYSTEMS_ONLY and not ctx.actor.is_trusted_system:
        raise NotFound(_absent(resource_type, id))
    check_if_match(if_match, current)
    if current is not None and not current.deleted and same_content(current.resource, body):
        return outcome_of(current)
    previous = expected_version(if_match) or (current.version if current else None)
    try:
        stored = store_version(ctx, "update", resource_type, id, body, previous, current)
    except Conflict as conflict:
        # without If-Match a lost race is retried around the whole unit of work (services/dispatch.py)
        raise_conflict_as_412(conflict, if_match)
    created = current is None or current.deleted
    return outcome_of(stored, 201 if created else 200, created=created)


def _absent(resource_type: str, id: str) -> str:
    """One diagnostic for an absent and for a hidden id (decisions.UPDATE_AS_CREATE_FOR_TRUSTED_SYSTEMS_ONLY)."""
    return f"{resource_type}/{id} not found (create it with POST: only trusted systems choose ids)"
