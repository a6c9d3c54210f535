"""What a search may return to an actor who named no single patient: the patients they may reach,
each with its visibility, compiled into one MongoDB filter ANDed into the search (and its includes)."""

from __future__ import annotations

from collections import defaultdict

import orjson

from ..search.compile import compile_search
from ..errors import Forbidden
from .acl import DERIVED_TYPES, compartment_params
from .decisions import ACCESS_MODE_SYSTEM, AUTHOR_SEES_OWN_DOCUMENTS, EMERGENCY_MODES
from .policy import Decision, Policy, hidden_documents
from .relationships import identities

MATCH_NOTHING = {"_acl.patients": {"$in": []}}
# the directory: readable by every authenticated actor
DIRECTORY_TYPES = frozenset({"Practitioner", "PractitionerRole", "Organization"})


def is_patient_data(resource_type: str) -> bool:
    return resource_type == "Patient" or bool(compartment_params().get(resource_type))


def search_scope(policy: Policy, resource_type: str, named: list[str] | None = None) -> dict | None:
    """None: no restriction. Otherwise a filter on `_acl` (MATCH_NOTHING when nothing is reachable).
    `named`: the patients the query itself is limited to (patient=, subject=), which spares computing
    every record the actor may reach; the filter is the same for those patients."""
    if policy.actor.is_trusted_system or resource_type in DIRECTORY_TYPES or not is_patient_data(resource_type):
        return None
    if named is not None:
        scope = _named(policy, named)
    elif policy.actor.resource_type == "Practitioner" and policy.actor.access_mode in EMERGENCY_MODES:
        scope = _emergency_scope(policy)
    else:
        scope = _decided_union(policy, candidate_patients(policy))
    return _without_hidden_documents(policy, resource_type, scope) if resource_type in DERIVED_TYPES else scope


def _without_hidden_documents(policy: Policy, resource_type: str, scope: dict) -> dict:
    """Lists and Provenances naming a document hidden from the actor are left out (two queries: the
    records of the candidates, then their hidden documents)."""
    naming = policy.store.find(resource_type, {"$and": [scope, {"deleted": False, "_acl.docs.0": {"$exists": True}}]},
                               projection={"_acl.patients": 1})
    patient_ids = sorted({pid for d in naming for pid in d["_acl"].get("patients", [])})
    policy.prefetch(patient_ids)
    hidden = sorted({h for pid in patient_ids for h in hidden_documents(policy, pid)})
    return {"$and": [scope, {"_acl.docs": {"$nin": hidden}}]} if hidden else scope


def _named(policy: Policy, patient_ids: list[str]) -> dict:
    """A search naming its patients is refused like a read when none of them is open to the actor."""
    policy.prefetch(patient_ids)
    decisions = [policy.decide(pid) for pid in patient_ids]
    refused = [d for d in decisions if not d.allowed]
    if refused and len(refused) == len(decisions) and any(policy.facts(pid) for pid in patient_ids):
        raise Forbidden(refused[0].reason)
    return union_of(policy, list(zip(patient_ids, decisions)))


def _decided_union(policy: Policy, patient_ids: list[str]) -> dict:
    policy.prefetch(patient_ids)
    return union_of(policy, [(pid, policy.decide(pid)) for pid in patient_ids])


def candidate_patients(policy: Policy) -> list[str]:
    """The records the actor may reach, found once per request (a search asks again for its includes and for
    the scope of its traces)."""
    if policy.candidates is None:
        policy.candidates = _candidates(policy)
    return policy.candidates


def _candidates(policy: Policy) -> list[str]:
    actor = policy.actor
    if actor.resource_type == "Patient":
        return [actor.id]
    if actor.resource_type == "RelatedPerson":
        doc = policy.store.read_doc("RelatedPerson", actor.id)
        ref = ((doc or {}).get("res", {}).get("patient") or {}).get("reference", "")
        return [ref.split("/", 1)[1]] if ref.startswith("Patient/") else []
    if actor.resource_type != "Practitioner":
        return []
    found: set[str] = set(patients_of(policy, "Patient", "general-practitioner", actor.reference))
    for me in identities(actor):
        found.update(patients_of(policy, "CareTeam", "participant", me))
        found.update(patients_of(policy, "Consent", "actor", me))
    if AUTHOR_SEES_OWN_DOCUMENTS:
        found.update(patients_of(policy, "DocumentReference", "author", actor.reference))
    return sorted(found)


def patients_of(policy: Policy, resource_type: str, param: str, reference: str) -> list[str]:
    query = compile_search(resource_type, [(param, reference)])
    docs = policy.store.find(resource_type, query.filter, projection={"_acl.patients": 1})
    return [pid for d in docs for pid in (d.get("_acl") or {}).get("patients", [])]


def union_of(policy: Policy, decisions: list[tuple[str, Decision]]) -> dict:
    by_view: dict[bytes, tuple[dict, list[str]]] = defaultdict(lambda: ({}, []))
    for pid, decision in decisions:
        if decision.allowed:
            key = orjson.dumps(decision.visibility, default=str, option=orjson.OPT_SORT_KEYS)
            view, ids = by_view[key]
            by_view[key] = (decision.visibility, ids + [pid])
    clauses = [_clause({"_acl.patients": {"$in": ids}}, view) for view, ids in by_view.values()]
    if not clauses:
        return MATCH_NOTHING
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def _emergency_scope(policy: Policy) -> dict:
    """Any record but those closed, blocking this actor, or whose holder objected to this mode."""
    actor, mode = policy.actor, policy.actor.access_mode
    if mode == "bris_de_glace" and not actor.reason:
        return MATCH_NOTHING
    excluded = set(_closed_records(policy))
    # a block on any establishment the professional works for counts, claimed in the token or not
    names = sorted(identities(policy.claimed) | policy.organizations())
    refusing = [("purpose", f"{ACCESS_MODE_SYSTEM}|{mode}")] + [("actor", me) for me in names]
    for param, value in refusing:
        query = compile_search("Consent", [(param, value), ("status", "active")])
        excluded.update(pid for d in policy.store.find("Consent", query.filter)
                        for pid in d["_acl"]["patients"] if not policy.decide(pid).allowed)
    reachable = _clause({"_acl.patients": {"$nin": sorted(excluded), "$exists": True, "$ne": []}},
                        policy.emergency_view())
    treated = [(pid, policy.decide(pid)) for pid in patients_of(policy, "Patient", "general-practitioner",
                                                                   actor.reference)]
    full_view = union_of(policy, [(pid, d) for pid, d in treated if d.allowed and not d.visibility])
    return reachable if full_view is MATCH_NOTHING else {"$or": [full_view, reachable]}


def _closed_records(policy: Policy) -> list[str]:
    """Closed records and records not yet open (the six weeks of R1111-28): no emergency access either."""
    query = {"$or": [{"_acl.closed": True}, {"_acl.opens": {"$gt": policy.now}}], "deleted": False}
    return [d["_id"] for d in policy.store.find("Patient", query, projection={"_id": 1})]


def _clause(base: dict, view: dict) -> dict:
    return {"$and": [base, view]} if view else base
