"""Where services ask the access policy, and note for the trace what they touched.

Read-type interactions call `check_readable` on the current stored document; searches pass
`search_filter` to the engine; writes call `check_writable` with the before/after resources.
"""

from __future__ import annotations

from ..access.acl import compartment_patients
from ..access.policy import Decision
from ..access.scope import MATCH_NOTHING, search_scope
from ..access.audit_scope import audit_scope
from ..access.writes import check_write
from ..errors import Forbidden, Hidden, NotFound
from ..search.index import extract_index
from .context import Context


def check_readable(ctx: Context, resource_type: str, doc: dict) -> None:
    """403 when the record is closed to the actor, 404 when this resource is hidden from them."""
    acl = doc.get("_acl") or {}
    patients = acl.get("patients") or []
    note(ctx, resource_type, doc)
    if ctx.actor.is_trusted_system:
        return
    if resource_type == "Binary":
        return _check_binary(ctx, acl)
    if resource_type == "AuditEvent":
        return _check_visible(ctx, resource_type, doc["_id"], audit_scope(ctx.policy))
    for pid in patients:
        decision = ctx.policy.decide(pid)
        if not decision.allowed:
            raise Forbidden(decision.reason)
        if decision.relationship == "author" and resource_type != "DocumentReference":
            raise Forbidden("no authorisation on this record: the holder's consent is needed ($authorize); "
                            "an author reads only the documents they wrote")
        _check_visible(ctx, resource_type, doc["_id"], decision.visibility)


def _check_visible(ctx: Context, resource_type: str, id: str, visibility: dict | None) -> None:
    if visibility and not ctx.store.count(resource_type, {"$and": [{"_id": id}, visibility]}, limit=1):
        raise Hidden(f"{resource_type}/{id} not found")


def _check_binary(ctx: Context, acl: dict) -> None:
    """A Binary is read under the rules of the resource its securityContext names."""
    context = acl.get("context")
    if not context or "/" not in context:
        raise Forbidden("this Binary has no securityContext: only trusted systems read it")
    type_, _, id = context.partition("/")
    doc = ctx.store.read_doc(type_, id)
    if doc is None or doc.get("deleted"):
        raise NotFound("the resource this Binary belongs to does not exist")
    check_readable(ctx, type_, doc)


def search_filter(ctx: Context, search_type: str | None = None, params: list[tuple[str, str]] = (),
                  compartment: str | None = None):
    """The engine calls this for every type it queries (matches, includes, chains, counts).
    `compartment`: GET Patient/{id}/{type} keeps the matches in that patient's record."""
    named = [compartment] if compartment else named_patients(search_type, params)
    if named and ctx.trace is not None:
        ctx.trace.touch(named)          # a search of a record is traced in that record, even when it finds nothing

    def scope(resource_type: str) -> dict | None:
        if resource_type == "Binary" and not ctx.actor.is_trusted_system:
            if search_type is None:
                return MATCH_NOTHING    # a system-level search leaves Binaries out; it is not refused for them
            raise Forbidden("Binary resources are read through their DocumentReference (GET Binary/id)")
        if resource_type == "AuditEvent":
            policy_filter = audit_scope(ctx.policy)
        else:
            policy_filter = search_scope(ctx.policy, resource_type, named if resource_type == search_type else None)
        if compartment and resource_type == search_type:
            inside = {"_acl.patients": compartment}
            return {"$and": [inside, policy_filter]} if policy_filter else inside
        return policy_filter
    return scope


def named_patients(search_type: str | None, params) -> list[str] | None:
    """The patients a search is limited to by a plain `patient=` / `subject=` (every value a Patient id)."""
    if search_type is None:
        return None
    for name, value in params:
        if name in ("patient", "subject", "subject:Patient", "patient:Patient") and value:
            ids = [v.removeprefix("Patient/") for v in value.split(",")]
            if all(i and "/" not in i and ":" not in i for i in ids):
                return ids
    return None


def check_writable(ctx: Context, kind: str, resource_type: str, before: dict | None, before_acl: dict | None,
                   after: dict | None, after_acl: dict | None) -> list[Decision]:
    acls = [acl or {} for acl in (before_acl, after_acl)]
    contexts = {acl["context"] for acl in acls if acl.get("context")}
    patients = sorted({pid for acl in acls for pid in acl.get("patients", [])}
                      | {pid for context in contexts for pid in _context_patients(ctx, context)})
    if ctx.trace is not None:
        ctx.trace.touch(patients, f"{resource_type}/{(after or before or {}).get('id')}")
    return check_write(ctx.policy, kind, resource_type, before, after, patients)


def _context_patients(ctx: Context, context: str) -> list[str]:
    """A Binary is written under the rules of the record its securityContext belongs to."""
    type_, _, id = context.partition("/")
    doc = ctx.store.read_doc(type_, id) if type_ and id else None
    return (doc or {}).get("_acl", {}).get("patients", [])


def note(ctx: Context, resource_type: str, doc: dict) -> None:
    """Record a resource the interaction touched (or returned), under its patients, for the trace."""
    if ctx.trace is None:
        return
    acl = doc.get("_acl") or {}
    ctx.trace.touch(acl.get("patients") or [], f"{resource_type}/{doc['_id']}")


def note_intended(ctx: Context, resource_type: str, id: str | None, body: object) -> None:
    """A write refused before the policy saw it (an invalid body) is traced in the records it was meant for,
    so that their holders see the attempt: the existing patients its body names and, for an update, those
    of the resource as stored."""
    if ctx.trace is None:
        return
    named = set(_body_patients(resource_type, body))
    if id is not None:
        named |= {id} if resource_type == "Patient" else set()
        named |= set(((ctx.store.read_doc(resource_type, id) or {}).get("_acl") or {}).get("patients") or [])
    existing = [pid for pid in sorted(named) if ctx.store.read_doc("Patient", pid) is not None]
    ctx.trace.touch(existing, f"{resource_type}/{id}" if id else None)


def _body_patients(resource_type: str, body: object) -> list[str]:
    if resource_type == "Patient" or not isinstance(body, dict):
        return []    # a new Patient is no one's record yet
    try:
        return compartment_patients(resource_type, body, extract_index({**body, "resourceType": resource_type}))
    except Exception:  # noqa: BLE001 - best effort on a body already known to be invalid: the refusal stands
        return []
