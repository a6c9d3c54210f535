"""Patient/{id}/$everything: https://hl7.org/fhir/R4/patient-operation-everything.html

The patient compartment (every resource whose `_acl.patients` names the patient), filtered by the
same decision as read and search, as one searchset Bundle."""

from __future__ import annotations

from ..access.acl import compartment_params
from ..access.audit_scope import audit_scope
from ..errors import BadRequest, Forbidden, Issue
from ..fhir_types import SUPPORTED_TYPES
from ..search import bundle
from .context import Context, Interaction, Outcome
from .guard import note
from .parameters import parameters
from .read import readable_current

PER_TYPE_LIMIT = 1000


def everything(ctx: Context, it: Interaction) -> Outcome:
    given = parameters(it)
    if given:   # start, end, _since, _type, _count are not implemented: ignoring them would answer too much
        raise BadRequest(f"$everything takes no parameters here (got {', '.join(sorted(given))[:200]}); "
                         "it returns the whole compartment the caller may see")
    patient = readable_current(ctx, "Patient", it.id)
    decision = ctx.policy.decide(it.id)
    if not decision.allowed:
        raise Forbidden(decision.reason)
    entries = [bundle.entry(ctx.base_url, patient.resource, "match")]
    capped = []
    # each type needs a read scope of the token (issue 10): the others are left out
    for resource_type in sorted(t for t, params in compartment_params().items()
                                if params and t in SUPPORTED_TYPES and ctx.actor.may("read", t)):
        docs = _compartment(ctx, resource_type, it.id, decision.visibility)
        if len(docs) > PER_TYPE_LIMIT:
            docs, capped = docs[:PER_TYPE_LIMIT], capped + [resource_type]
        for doc in docs:
            if resource_type == "Patient" and doc["_id"] == it.id:
                continue                    # already the first entry (the Patient is in its own compartment)
            note(ctx, resource_type, doc)
            entries.append(bundle.entry(ctx.base_url, doc["res"], "match"))
    if capped:
        entries.append(bundle.outcome_entry([Issue(f"more than {PER_TYPE_LIMIT} {', '.join(capped)}: cut",
                                                   "too-costly", "warning")]))
    matches = sum(1 for e in entries if e.get("search", {}).get("mode") == "match")
    return Outcome(200, bundle.searchset(entries, matches, [("self", f"{ctx.base_url}/Patient/{it.id}/$everything")]))


def _filter(ctx: Context, resource_type: str, patient_id: str, visibility: dict) -> dict:
    clauses = [{"_acl.patients": patient_id}, {"deleted": False}]
    view = audit_scope(ctx.policy) if resource_type == "AuditEvent" else visibility
    return {"$and": clauses + ([view] if view else [])}


def _compartment(ctx: Context, resource_type: str, patient_id: str, visibility: dict) -> list[dict]:
    return ctx.store.find(resource_type, _filter(ctx, resource_type, patient_id, visibility),
                          sort=[("_id", 1)], limit=PER_TYPE_LIMIT + 1)
