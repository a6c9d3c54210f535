"""delete (logical, history kept) and conditional delete: https://hl7.org/fhir/R4/http.html#delete"""

from __future__ import annotations

from ..errors import Conflict, Issue, operation_outcome
from ..storage.base import Stored
from .conditional import resolve_single
from .context import Context, Interaction, Outcome
from .read import checked_doc
from .writing import check_if_match, raise_conflict_as_412, store_version, tombstone

WITHDRAWN = "entered-in-error"


def delete(ctx: Context, it: Interaction) -> Outcome:
    if it.id is None:
        match = resolve_single(ctx, it.resource_type, it.params, "delete")
        if match is None:
            return _message(200, f"no {it.resource_type} matched: nothing deleted")
        return _delete(ctx, it.resource_type, match.id, it.if_match)
    return _delete(ctx, it.resource_type, it.id, it.if_match)


def _delete(ctx: Context, resource_type: str, id: str, if_match: str | None) -> Outcome:
    current = Stored.from_doc(resource_type, checked_doc(ctx, resource_type, id))
    if current.deleted or _withdrawn_document(resource_type, current.resource):
        return _message(200, f"{resource_type}/{id} was already deleted")
    check_if_match(if_match, current)
    document = resource_type == "DocumentReference"
    # DMP rule 12: a document is deleted logically, by its status; it stays readable as withdrawn
    body = {**current.resource, "status": WITHDRAWN} if document else tombstone(resource_type, id)
    try:
        stored = store_version(ctx, "delete", resource_type, id, body, current.version, current,
                               deleted=not document)
    except Conflict as conflict:
        raise_conflict_as_412(conflict, if_match)
    what = f"marked {WITHDRAWN}" if document else "deleted"
    out = _message(200, f"{what} {resource_type}/{id} (version {stored.version})")
    out.resource_type, out.id, out.version, out.last_modified = resource_type, id, stored.version, stored.last_updated
    return out


def _withdrawn_document(resource_type: str, resource: dict) -> bool:
    return resource_type == "DocumentReference" and resource.get("status") == WITHDRAWN


def _message(status: int, text: str) -> Outcome:
    return Outcome(status, message=operation_outcome([Issue(text, "informational", "information")]))
