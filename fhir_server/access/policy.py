"""The DMP access policy: may this actor reach this patient's record, and what of it may they see?

One answer (a Decision) serves every entry point: read, vread, history, search, _include, $everything,
writes, transaction entries and the custom operations. The visibility part is a MongoDB filter, so
searches apply it inside the query and totals and pages never reveal a hidden resource.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import replace as with_fields
from datetime import datetime

import orjson

from ..auth.actor import Actor
from ..storage.mongo import MongoStore
from . import decisions as rules
from .acl import dmp_status
from .lifecycle import not_open_yet
from .matrix import Matrix, Rights, load_matrix, read_filter
from .memo import recalled
from .professions import professions_of
from .relationships import PatientFacts, active_roles, authorised, blocked, identities, in_care_team, load_facts, \
    opposed, represents, role_organizations


@dataclass(frozen=True)
class Decision:
    allowed: bool
    relationship: str           # system, holder, legal_representative, medecin_traitant, care_team, authorised,
                                # emergency, none
    reason: str
    visibility: dict = field(default_factory=dict)   # what of the record the actor may see (Mongo filter)


def hidden_from_holder(now: datetime) -> dict:
    """Rule 6: INVISIBLE_PATIENT hides until revealed or until its month is over (evaluated now)."""
    return {"_acl.hidden_until": {"$not": {"$gt": now}}}


def masked_for(actor: Actor) -> dict:
    """Rule 4: MASQUE_PS documents stay visible to their authors and the authors' establishment."""
    return {"$or": [{"_acl.labels": {"$ne": rules.MASQUE_PS}}, {"_acl.authors": {"$in": sorted(identities(actor))}}]}


def professional_view(actor: Actor) -> dict:
    """What an authorised professional (care team, authorisation, emergency) sees of a record: not the
    documents masked from them, nor the holder's blocks (decisions.BLOCKS_SEEN_BY)."""
    return {"$and": [masked_for(actor), {"_acl.deny": {"$ne": True}}]}


def authored_by(actor: Actor) -> dict:
    """The professional's own documents (not their establishment's: that would open every record it wrote in)."""
    return {"_acl.authors": actor.reference}


def authored_records(store: MongoStore, patient_ids: list[str], actor: Actor) -> set[str]:
    """Which of these records hold a document the actor wrote (one query)."""
    query = {"$and": [{"_acl.patients": {"$in": patient_ids}, "deleted": False}, authored_by(actor)]}
    docs = store.find("DocumentReference", query, projection={"_acl.patients": 1})
    return {pid for d in docs for pid in d["_acl"]["patients"]} & set(patient_ids)


def representative_view(now: datetime, carers: list[str] = ()) -> dict:
    """Rules 6 and 7; with SECRET_COVERS_THE_CARERS, also whatever names a professional (or establishment)
    who wrote one of the minor's secret documents: a Consent, a CareTeam, a message reveals the care."""
    clauses = [hidden_from_holder(now), {"_acl.labels": {"$ne": rules.INVISIBLE_REPRESENTANTS_LEGAUX}}]
    if carers:
        clauses.append({"_acl.names": {"$nin": list(carers)}})
    return {"$and": clauses}


def secret_carers(policy: "Policy", patient_id: str) -> list[str]:
    """Who wrote the documents of this record hidden from the legal representatives (rule 7), for a
    representative reader; nobody for anyone else."""
    if policy.actor.resource_type != "RelatedPerson" or not rules.SECRET_COVERS_THE_CARERS:
        return []
    if patient_id not in policy._carers:
        docs = policy.store.find("DocumentReference", {"_acl.patients": patient_id, "deleted": False},
                                 projection={"_acl.authors": 1, "_acl.labels": 1})
        secret = {a for d in docs if rules.INVISIBLE_REPRESENTANTS_LEGAUX in d["_acl"].get("labels", [])
                  for a in d["_acl"].get("authors", [])}
        # a professional who also wrote documents the representatives see is no secret
        shown = {a for d in docs if rules.INVISIBLE_REPRESENTANTS_LEGAUX not in d["_acl"].get("labels", [])
                 for a in d["_acl"].get("authors", [])}
        policy._carers[patient_id] = sorted(secret - shown)
    return policy._carers[patient_id]


def hidden_documents(policy: "Policy", patient_id: str) -> list[str]:
    """The documents of a record (and their Binaries) the actor may not see now: a trace, a List or a
    Provenance naming one of them is hidden with it."""
    decision = policy.decide(patient_id)
    if not decision.allowed or not decision.visibility:
        return []
    if patient_id not in policy._hidden_docs:
        where = {"$and": [{"_acl.patients": patient_id, "deleted": False}, {"$nor": [decision.visibility]}]}
        policy._hidden_docs[patient_id] = with_binaries(policy.store, [
            f"DocumentReference/{d['_id']}" for d in policy.store.find("DocumentReference", where,
                                                                       projection={"_id": 1})])
    return policy._hidden_docs[patient_id]


def with_binaries(store: MongoStore, documents: list[str]) -> list[str]:
    if not documents:
        return []
    binaries = store.find("Binary", {"_acl.context": {"$in": documents}}, projection={"_id": 1})
    return documents + [f"Binary/{b['_id']}" for b in binaries]


FACT_COLLECTIONS = ("Patient", "Consent", "CareTeam")     # what a record's facts are read from (load_facts)


class Policy:
    """Decisions for one request (the actor is fixed); facts are read once per patient."""

    def __init__(self, store: MongoStore, actor: Actor, now: datetime, age_of_majority: int,
                 matrix: Matrix | None = None):
        self.store, self.now = store, now
        self.age_of_majority = age_of_majority
        self.matrix = matrix or load_matrix()
        self._rights: Rights | None = None
        self._facts: dict[str, PatientFacts | None] = {}
        self._read_patients: dict[str, tuple] = {}     # Patients this request read, with the count then (know_patient)
        self._authored: set[str] = set()        # records where the actor wrote a document
        self._authored_known: set[str] = set()
        self._roles: list[dict] | None = None
        self._decisions: dict[str, Decision] = {}
        self._carers: dict[str, list[str]] = {}
        self._hidden_docs: dict[str, list[str]] = {}
        self.candidates: list[str] | None = None      # the records the actor may reach (scope.candidate_patients)
        self.claimed = actor       # as the token says: a block on a claimed organisation still applies
        self.actor = self._verified(actor)

    def _verified(self, actor: Actor) -> Actor:
        """An actor acts for an organisation only where an active PractitionerRole says so: a token's
        `organization` claim without one is ignored, for grants (care teams, authorisations, masked
        documents of the establishment) as for blocks (which use every role organisation anyway)."""
        if actor.resource_type != "Practitioner" or not actor.organization:
            return actor
        verified = actor.organization in role_organizations(self.roles(actor))
        return actor if verified else with_fields(actor, organization=None)

    def facts(self, patient_id: str) -> PatientFacts | None:
        if patient_id not in self._facts:
            # one record: whether the actor wrote in it is asked only if the decision comes to it (authored_any)
            self.prefetch([patient_id], authorship=False)
        return self._facts[patient_id]

    def prefetch(self, patient_ids: list[str], *, authorship: bool = True) -> None:
        """The facts of these records in one query per collection (or as read by an earlier request, while those
        collections are unchanged: access/memo.py); with `authorship`, also in which of them the professional
        wrote (one query for all, rather than one per record reaching the last rule)."""
        missing = [pid for pid in patient_ids if pid not in self._facts]
        if missing:
            self._facts.update(recalled(self.store, "facts", missing, FACT_COLLECTIONS,
                                        lambda ids: load_facts(self.store, ids, self._read_copies(ids))))
            if authorship and self.actor.resource_type == "Practitioner" and rules.AUTHOR_SEES_OWN_DOCUMENTS:
                self._authored.update(authored_records(self.store, missing, self.actor))
                self._authored_known.update(missing)

    def know_patient(self, doc: dict) -> None:
        """A Patient the request read itself (current, live): its facts need not read it again."""
        if not doc.get("deleted") and isinstance(doc.get("res"), dict):
            self._read_patients[doc["_id"]] = (doc["res"], self.store.versions(("Patient",)))

    def _read_copies(self, patient_ids: list[str]) -> dict[str, dict]:
        """Copies of the Patients read, for facts that may outlive the request (access/memo.py): the answer's
        resource stays the request's. Only those read at the Patients' current count: facts kept at a count hold
        what was there at that count."""
        now = self.store.versions(("Patient",))
        return {pid: orjson.loads(orjson.dumps(res)) for pid, (res, then) in self._read_patients.items()
                if pid in patient_ids and then == now}

    def names_hidden_document(self, references: list[str], patient_ids: list[str]) -> bool:
        """A List or Provenance that names a document hidden from the actor is hidden with it."""
        return bool(set(references) & {h for pid in patient_ids for h in hidden_documents(self, pid)})

    def roles(self, actor: Actor | None = None) -> list[dict]:
        """The professional's active PractitionerRoles, read once per request (organisations and professions).
        `actor`: while the verified actor is being built (the roles do not depend on the organisation claim)."""
        if self._roles is None:
            who = actor or self.actor
            self._roles = recalled(self.store, "roles", [who.reference], ("PractitionerRole",),
                                   lambda refs: {refs[0]: active_roles(self.store, who)})[who.reference]
        return self._roles

    def organizations(self) -> set[str]:
        """Where the professional works (PractitionerRole), for deny rules."""
        return role_organizations(self.roles())

    def rights(self) -> Rights:
        """What the professional's profession may read and feed (the access matrix): read once per request."""
        if self._rights is None:
            professions = recalled(self.store, "professions", [self.actor.reference], ("Practitioner", "PractitionerRole"),
                                   lambda refs: {refs[0]: professions_of(self.store, self.actor, self.roles())})
            self._rights = self.matrix.rights(professions[self.actor.reference])
        return self._rights

    def narrowed(self, view: dict) -> dict:
        """A professional's view further narrowed by the access matrix (care team, authorised, emergency)."""
        matrix_view = read_filter(self.rights(), self.actor.reference)
        if not matrix_view:
            return view
        return {"$and": [view, matrix_view]} if view else matrix_view

    def authored_any(self, patient_id: str) -> bool:
        if patient_id not in self._authored_known:
            self._authored.update(authored_records(self.store, [patient_id], self.actor))
            self._authored_known.add(patient_id)
        return patient_id in self._authored

    def decide(self, patient_id: str) -> Decision:
        if patient_id not in self._decisions:
            self._decisions[patient_id] = self._decide(patient_id)
        return self._decisions[patient_id]

    def _decide(self, patient_id: str) -> Decision:
        actor = self.actor
        if actor.is_trusted_system:
            return Decision(True, "system", "trusted system")
        facts = self.facts(patient_id)
        if facts is None:
            return Decision(False, "none", f"no record for Patient/{patient_id}")
        kind = actor.resource_type
        if kind == "Patient":
            return self._holder(facts)
        if kind == "RelatedPerson":
            return self._representative(facts)
        if kind == "Practitioner":
            return self._professional(facts)
        return Decision(False, "none", f"a {kind} without system scope has no access to patient records")

    def _holder(self, facts: PatientFacts) -> Decision:
        if self.actor.id != facts.id:
            return Decision(False, "none", "a patient sees only their own record")
        return Decision(True, "holder", "the holder", hidden_from_holder(self.now))

    def _representative(self, facts: PatientFacts) -> Decision:
        if not represents(self.store, self.actor, facts, self.now, self.age_of_majority):
            return Decision(False, "none", "not a legal representative of this patient (no active link, "
                                           "or the patient is no longer a minor)")
        return Decision(True, "legal_representative", "legal representative of a minor",
                        representative_view(self.now, secret_carers(self, facts.id)))

    def _professional(self, facts: PatientFacts) -> Decision:
        actor, mode = self.actor, self.actor.access_mode
        if facts.closed:
            return Decision(False, "none", "the record is closed (DMP FERME)")
        if not_open_yet(facts.resource, self.now):
            return Decision(False, "none", f"the record opens on {dmp_status(facts.resource)['openingDate']} "
                                           "(six weeks after the holder was informed)")
        if blocked(facts, self.claimed, self.organizations()) and (mode == "normal" or rules.BLOCK_APPLIES_IN_EMERGENCY):
            return Decision(False, "none", "the holder has blocked this professional or establishment")
        if actor.reference in facts.medecins_traitants:
            return Decision(True, "medecin_traitant", "médecin traitant")
        if mode in rules.EMERGENCY_MODES:
            return self._emergency(facts, mode)
        if in_care_team(facts, actor, self.now):
            return Decision(True, "care_team", "member of an active care team",
                            self.narrowed(professional_view(actor)))
        if authorised(facts, actor, self.now):
            return Decision(True, "authorised", "authorised by the holder", self.narrowed(professional_view(actor)))
        if rules.AUTHOR_SEES_OWN_DOCUMENTS and self.authored_any(facts.id):
            return Decision(True, "author", "author of documents in the record (those documents only)",
                            authored_by(actor))
        return Decision(False, "none", "no authorisation: the holder's consent is needed ($authorize)")

    def _emergency(self, facts: PatientFacts, mode: str) -> Decision:
        if mode == "bris_de_glace" and not self.actor.reason:
            return Decision(False, "none", "bris_de_glace needs a reason (access_reason claim)")
        if opposed(facts, mode):
            return Decision(False, "none", f"the holder objected to {mode} access")
        return Decision(True, "emergency", f"emergency access ({mode})", self.emergency_view())

    def emergency_view(self) -> dict:
        """Masked documents per EMERGENCY_SEES_MASKED, never the holder's blocks (BLOCKS_SEEN_BY), and the
        same access matrix as normal access (decisions.ACCESS_MATRIX_IN_EMERGENCY)."""
        view = {"_acl.deny": {"$ne": True}} if rules.EMERGENCY_SEES_MASKED else professional_view(self.actor)
        return self.narrowed(view) if rules.ACCESS_MATRIX_IN_EMERGENCY else view
