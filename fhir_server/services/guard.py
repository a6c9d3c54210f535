"""Where services ask the access policy, and note for the trace what they touched.

Read-type interactions call `check_readable` on the current stored document; searches pass
`search_filter` to the engine; writes call `check_writable` with the before/after resources.
"""

from __future__ import annotations

from ..access.acl import DERIVED_TYPES, compartment_patients
from ..access.policy import Decision
from ..access.scope import MATCH_NOTHING, is_patient_data, search_scope
from ..access.audit_scope import audit_scope
from ..access.labels import check_rehiding
from ..access.writes import check_write
from ..errors import Forbidden, Hidden, MethodNotAllowed, NotFound, Unprocessable
from ..fhir_types import SUPPORTED_TYPES
from ..search.index import extract_index
from .context import Context


def not_found(resource_type: str, id: str) -> str:
    """The one diagnostic of an absent resource: a hidden one answers exactly the same (decisions.py)."""
    return f"{resource_type}/{id} not found"


def check_readable(ctx: Context, resource_type: str, doc: dict, *, collection: str | None = None,
                   traced: bool = True) -> None:
    """403 when the actor asks for a record (Patient) closed to them; 404, as for an absent id, for any
    other resource they may not see (decisions.REFUSED_RECORD_ANSWERS_NOT_FOUND). `collection`: where `doc`
    lives when it is not the current version (a history row, judged on its own record and labels).
    `traced=False`: a check whose failure the answer does not reveal leaves no mark in the trace either."""
    acl = doc.get("_acl") or {}
    patients = acl.get("patients") or []
    if traced:
        note(ctx, resource_type, doc)
    if ctx.actor.is_trusted_system:
        return
    where = collection or resource_type
    id = doc.get("id") if collection else doc["_id"]
    if resource_type == "Patient" and collection is None:
        ctx.policy.know_patient(doc)
    if resource_type == "Binary":
        return _check_binary(ctx, acl, id)
    if resource_type == "AuditEvent":
        return _check_visible(ctx, where, doc["_id"], audit_scope(ctx.policy), not_found(resource_type, id))
    if not patients and is_patient_data(resource_type):
        raise Hidden(not_found(resource_type, id))   # patient data tied to no record: trusted systems only
    for pid in patients:
        decision = ctx.policy.decide(pid)
        author_only = decision.relationship == "author" and resource_type != "DocumentReference"
        if resource_type == "Patient" and (not decision.allowed or author_only):
            raise Forbidden(decision.reason if not decision.allowed else
                            "no authorisation on this record: the holder's consent is needed ($authorize)")
        if not decision.allowed or author_only:
            raise Hidden(not_found(resource_type, id))
        _check_visible(ctx, where, doc["_id"], decision.visibility, not_found(resource_type, id))
    if acl.get("docs") and ctx.policy.names_hidden_document(acl["docs"], patients):
        raise Hidden(not_found(resource_type, id))


def _check_visible(ctx: Context, collection: str, key: str, visibility: dict | None, diagnostics: str) -> None:
    if visibility and not ctx.store.count(collection, {"$and": [{"_id": key}, visibility]}, limit=1):
        raise Hidden(diagnostics)


def _check_binary(ctx: Context, acl: dict, binary_id: str) -> None:
    """A Binary is read under the rules of the resource its securityContext names; one the actor may not
    read answers like an absent Binary, never naming that resource."""
    context = acl.get("context")
    type_, _, id = (context or "").partition("/")
    doc = ctx.store.read_doc(type_, id) if type_ and id else None
    if doc is None or doc.get("deleted"):
        raise Hidden(not_found("Binary", binary_id))
    try:
        check_readable(ctx, type_, doc)
    except (Forbidden, NotFound):
        raise Hidden(not_found("Binary", binary_id)) from None


def search_filter(ctx: Context, search_type: str | None = None, params: list[tuple[str, str]] = (),
                  compartment: str | None = None):
    """The engine calls this for every type it queries (matches, includes, chains, counts).
    `compartment`: GET Patient/{id}/{type} keeps the matches in that patient's record."""
    named = [compartment] if compartment else named_patients(search_type, params)
    if named and ctx.trace is not None:
        ctx.trace.touch(named)          # a search of a record is traced in that record, even when it finds nothing

    def scope(resource_type: str) -> dict | None:
        if search_type is not None and resource_type != search_type and not ctx.actor.may("read", resource_type):
            # what a response carries (includes, _has and chain criteria) needs a read scope for its type
            raise Forbidden(f"the token's scopes do not allow reading {resource_type}")
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
    if resource_type == "Binary" and not ctx.actor.is_trusted_system:
        _check_binary_write(ctx, before, after_acl)
    if resource_type == "DocumentReference":
        check_rehiding(before_acl, after_acl)
    if resource_type in DERIVED_TYPES and not ctx.actor.is_trusted_system and after_acl is not None:
        for target in after_acl.get("targets", []):
            require_readable(ctx, target, resource_type)
    contexts = {acl["context"] for acl in acls if acl.get("context")}
    patients = sorted({pid for acl in acls for pid in acl.get("patients", [])}
                      | {pid for context in contexts for pid in _context_patients(ctx, context)})
    if ctx.trace is not None:
        ctx.trace.touch(patients, f"{resource_type}/{(after or before or {}).get('id')}")
    return check_write(ctx.policy, kind, resource_type, before, after, patients)


def _check_binary_write(ctx: Context, before: dict | None, after_acl: dict | None) -> None:
    """Rules 12 and 13: a document's content never changes, so the Binary of a DocumentReference is
    written with it (in the same transaction, ITI-65) and never replaced, patched or deleted after; any other
    Binary names, in its securityContext, a resource its writer may read. A context hidden from the writer
    answers exactly like one that does not exist."""
    if before is not None and (before.get("securityContext") or {}).get("reference", "").startswith(
            "DocumentReference/"):
        raise MethodNotAllowed("the content of a document never changes (rules 12 and 13): replace the "
                               "document, or withdraw it (its author)")
    if after_acl is None:
        return
    context = after_acl.get("context")
    if not context:
        raise Unprocessable("a Binary needs a securityContext naming the resource it belongs to",
                            expression="Binary.securityContext")
    if context in ctx.pending:
        return      # created by this very transaction (ITI-65 lists the Binary before its document)
    require_readable(ctx, context, "Binary.securityContext")
    type_ = context.partition("/")[0]
    if type_ == "DocumentReference":
        raise MethodNotAllowed("the content of a document never changes (rule 13): its Binary is written with "
                               "it, in the same transaction")


def require_readable(ctx: Context, reference: str, expression: str) -> None:
    """What a write points at (a Binary's context, a List's items, a Provenance's targets) must be
    something its writer may read; one hidden from them answers exactly like one that does not exist."""
    if reference in ctx.pending or not reference.partition("/")[0] in SUPPORTED_TYPES:
        return
    type_, _, id = reference.partition("/")
    doc = ctx.store.read_doc(type_, id) if id else None
    try:
        if doc is None or doc.get("deleted"):
            raise NotFound(reference)
        check_readable(ctx, type_, doc, traced=False)
    except (Forbidden, NotFound):
        raise Unprocessable(f"{reference} names no resource this actor may read", expression=expression) from None


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
