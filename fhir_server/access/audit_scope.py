"""Who reads access traces (R1111-43, L1111-19): the holder and the legal representatives for their record,
the médecin traitant, each professional for their own actions, trusted systems; everyone else 403.

A trace of an access to a document hidden from the holder (or from the representatives) carries the same
`_acl` marks, so it stays hidden from them exactly as long as the document does."""

from __future__ import annotations

from ..errors import Forbidden
from .policy import Policy
from .scope import candidate_patients, patients_of, union_of


def audit_scope(policy: Policy) -> dict | None:
    actor = policy.actor
    if actor.is_trusted_system:
        return None
    if actor.resource_type in ("Patient", "RelatedPerson"):
        patients = candidate_patients(policy)
        policy.prefetch(patients)
        return union_of(policy, [(pid, policy.decide(pid)) for pid in patients])
    if actor.resource_type != "Practitioner":
        raise Forbidden("access traces are read by the holder, the legal representatives, the médecin traitant, "
                        "the professional who acted, and trusted systems")
    own = {"_acl.agent": actor.reference}
    treated = [pid for pid in patients_of(policy, "Patient", "general-practitioner", actor.reference)
               if policy.decide(pid).relationship == "medecin_traitant"]
    if not treated:
        return own
    return {"$or": [own, {"_acl.patients": {"$in": treated}}]}
