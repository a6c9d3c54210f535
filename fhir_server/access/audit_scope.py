"""Who reads access traces (R1111-43, L1111-19): the holder and the legal representatives for their record,
the médecin traitant, each professional for their own actions, trusted systems; everyone else 403.

A trace names the documents it touched (`_acl.docs`); the holder's and the representatives' view of
traces leaves out those naming a document that their own visibility filter hides now, so a trace stays
hidden exactly as long as its document (revealing the document reveals its traces)."""

from __future__ import annotations

from ..errors import Forbidden
from .policy import Policy
from .scope import MATCH_NOTHING, candidate_patients, patients_of


def _holder_side_view(policy: Policy, patient_id: str) -> dict:
    visibility = policy.decide(patient_id).visibility
    hidden = policy.store.find("DocumentReference", {"$and": [{"_acl.patients": patient_id, "deleted": False},
                                                              {"$nor": [visibility]}]}, projection={"_id": 1})
    view: dict = {"_acl.patients": patient_id}
    if hidden:
        view["_acl.docs"] = {"$nin": [f"DocumentReference/{d['_id']}" for d in hidden]}
    return view


def audit_scope(policy: Policy) -> dict | None:
    actor = policy.actor
    if actor.is_trusted_system:
        return None
    if actor.resource_type in ("Patient", "RelatedPerson"):
        patients = candidate_patients(policy)
        policy.prefetch(patients)
        views = [_holder_side_view(policy, pid) for pid in patients if policy.decide(pid).allowed]
        return {"$or": views} if len(views) > 1 else views[0] if views else MATCH_NOTHING
    if actor.resource_type != "Practitioner":
        raise Forbidden("access traces are read by the holder, the legal representatives, the médecin traitant, "
                        "the professional who acted, and trusted systems")
    own = {"_acl.agent": actor.reference}
    patients = patients_of(policy, "Patient", "general-practitioner", actor.reference)
    policy.prefetch(patients)       # the facts of all of them in one batch, not one patient at a time
    treated = [pid for pid in patients if policy.decide(pid).relationship == "medecin_traitant"]
    if not treated:
        return own
    return {"$or": [own, {"_acl.patients": {"$in": treated}}]}
