"""Who reads access traces (R1111-43, L1111-19): the holder and the legal representatives for their record,
the médecin traitant, each professional for their own actions, trusted systems; everyone else 403.

A trace names the documents it touched (`_acl.docs`); the holder's and the representatives' view of
traces leaves out those naming (in an entity or in their query text) a document, or its Binary, that their
own visibility filter hides now, so a trace stays hidden exactly as long as its document (revealing the
document reveals its traces). The legal representatives also miss the traces of the professionals who wrote
the minor's secret documents (rule 7 covers the fact of the care: decisions.SECRET_COVERS_THE_CARERS).
A professional reads their own traces as they were answered (services/tracing.py: the trace of a "not found"
for a hidden resource is, in their view, the trace an absent id leaves)."""

from __future__ import annotations

from ..errors import Forbidden
from .policy import Policy, hidden_documents, secret_carers
from .scope import candidate_patients, patients_of


def _holder_side_view(policy: Policy, patient_id: str) -> dict:
    view: dict = {"_acl.patients": patient_id}
    hidden = hidden_documents(policy, patient_id)
    if hidden:
        view["_acl.docs"] = {"$nin": hidden}
    carers = secret_carers(policy, patient_id)
    if carers:
        view["_acl.agent"] = {"$nin": carers}
        view["_acl.org"] = {"$nin": carers}
    return view


def audit_scope(policy: Policy) -> dict | None:
    actor = policy.actor
    if actor.is_trusted_system:
        return None
    own = {"_acl.agent": actor.reference, "_acl.agent_hidden": {"$ne": True}}
    if actor.resource_type in ("Patient", "RelatedPerson"):
        patients = candidate_patients(policy)
        policy.prefetch(patients)
        views = [_holder_side_view(policy, pid) for pid in patients if policy.decide(pid).allowed]
        return {"$or": [own, *views]}      # one's own actions, as answered, and the record's filtered traces
    if actor.resource_type != "Practitioner":
        raise Forbidden("access traces are read by the holder, the legal representatives, the médecin traitant, "
                        "the professional who acted, and trusted systems")
    patients = patients_of(policy, "Patient", "general-practitioner", actor.reference)
    policy.prefetch(patients)       # the facts of all of them in one batch, not one patient at a time
    treated = [pid for pid in patients if policy.decide(pid).relationship == "medecin_traitant"]
    if not treated:
        return own
    return {"$or": [own, {"_acl.patients": {"$in": treated}}]}
