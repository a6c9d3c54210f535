"""Who the actor is to a patient, read from the patient's own resources: the Patient (médecin traitant,
birth date, record status), its Consents (authorisations, blocks, emergency oppositions), its CareTeams,
and, for a RelatedPerson actor, the RelatedPerson itself. Queries go through `_acl.patients` (indexed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ..auth.actor import Actor
from ..errors import FhirError
from ..instants import parse_instant
from ..storage.mongo import MongoStore
from .acl import dmp_status
from .decisions import ACCESS_MODE_SYSTEM, DMP_CLOSED, LEGAL_REPRESENTATIVE_CODES


@dataclass
class PatientFacts:
    id: str
    resource: dict
    consents: list[dict] = field(default_factory=list)     # active Consents of the patient
    care_teams: list[dict] = field(default_factory=list)   # active CareTeams of the patient

    @property
    def closed(self) -> bool:
        return dmp_status(self.resource)["status"] == DMP_CLOSED

    @property
    def medecins_traitants(self) -> set[str]:
        return {g["reference"] for g in self.resource.get("generalPractitioner") or [] if g.get("reference")}

    def is_minor(self, today: date, majority: int) -> bool:
        born = self.resource.get("birthDate")
        if not isinstance(born, str) or len(born) < 4:
            return False
        parts = [int(p) for p in born.split("-")] + [1, 1]
        year, month, day = parts[0], parts[1], parts[2]
        age = today.year - year - ((today.month, today.day) < (month, day))
        return age < majority


FACT_FIELDS = {"res": 1, "_acl.patients": 1}


def load_facts(store: MongoStore, patient_ids: list[str],
               patients: dict[str, dict] | None = None) -> dict[str, PatientFacts | None]:
    """The facts of several patients in three queries (a search may reach hundreds of records). `patients`:
    Patient resources the request has just read as current and live, not asked for again."""
    ids = sorted(set(patient_ids))
    facts: dict[str, PatientFacts | None] = dict.fromkeys(ids)
    known = {pid: res for pid, res in (patients or {}).items() if pid in facts}
    for pid, res in known.items():
        facts[pid] = PatientFacts(pid, res)
    unknown = [pid for pid in ids if pid not in known]
    # only what the decisions read: the search index (`_idx`) is most of a stored document
    stored = store.find("Patient", {"_id": {"$in": unknown}, "deleted": False}, projection={"res": 1}) if unknown else []
    for doc in stored:
        facts[doc["_id"]] = PatientFacts(doc["_id"], doc["res"])
    theirs = {"_acl.patients": {"$in": ids}, "deleted": False, "res.status": "active"}
    for doc in store.find("Consent", theirs, projection=FACT_FIELDS):
        for pid in doc["_acl"]["patients"]:
            if facts.get(pid) is not None:
                facts[pid].consents.append(doc["res"])
    for doc in store.find("CareTeam", theirs, projection=FACT_FIELDS):
        for pid in doc["_acl"]["patients"]:
            if facts.get(pid) is not None:
                facts[pid].care_teams.append(doc["res"])
    return facts


def identities(actor: Actor) -> set[str]:
    """The references that stand for the actor: itself and the organisation it acts for."""
    return {actor.reference} | ({actor.organization} if actor.organization else set())


def _period_covers(period: dict | None, now: datetime) -> bool:
    if not period:
        return True
    try:
        start = parse_instant(period["start"], "period.start") if period.get("start") else None
        end = parse_instant(period["end"], "period.end") if period.get("end") else None
    except FhirError:
        return False
    if end is not None and len(period["end"]) == 10:
        end = end.replace(hour=23, minute=59, second=59)  # a date-only end includes that whole day
    return (start is None or start <= now) and (end is None or now <= end)


def _actors(provision: dict) -> set[str]:
    return {a.get("reference", {}).get("reference") for a in provision.get("actor") or []} - {None}


def _purposes(provision: dict) -> set[str]:
    return {p.get("code") for p in provision.get("purpose") or [] if p.get("system") == ACCESS_MODE_SYSTEM}


def blocked(facts: PatientFacts, actor: Actor, wider: set[str] | None = None) -> bool:
    """Rule 3: an active deny naming the professional or one of their establishments. `wider`: every
    organisation the professional works for (a block must not depend on what the token claims)."""
    names = identities(actor) | (wider or set())
    return any(
        (c.get("provision") or {}).get("type") == "deny" and _actors(c["provision"]) & names
        for c in facts.consents)


def active_roles(store: MongoStore, actor: Actor) -> list[dict]:
    """The professional's active PractitionerRoles (resources): one query serves both their organisations
    (role_organizations) and their professions (professions.professions_of)."""
    if actor.resource_type != "Practitioner":
        return []
    roles = store.find("PractitionerRole", {"_idx.practitioner.r": actor.reference, "deleted": False},
                       projection={"res": 1})
    return [r["res"] for r in roles if r["res"].get("active") is not False]


def role_organizations(roles: list[dict]) -> set[str]:
    """The organisations of these (active) PractitionerRoles."""
    return {r["organization"]["reference"] for r in roles if (r.get("organization") or {}).get("reference")}


def opposed(facts: PatientFacts, mode: str) -> bool:
    """Rule 9: the holder objected to this emergency mode beforehand."""
    return any((c.get("provision") or {}).get("type") == "deny" and mode in _purposes(c["provision"])
               for c in facts.consents)


def authorised(facts: PatientFacts, actor: Actor, now: datetime) -> bool:
    """Rule 2: an active permit naming the actor (or its establishment) whose period covers now."""
    return any(
        (c.get("provision") or {}).get("type") == "permit" and _actors(c["provision"]) & identities(actor)
        and _period_covers(c["provision"].get("period"), now)
        for c in facts.consents)


def in_care_team(facts: PatientFacts, actor: Actor, now: datetime) -> bool:
    """Rule 2: members of an active care team (or of an organisation in it) are presumed authorised."""
    me = identities(actor)
    for team in facts.care_teams:
        if not _period_covers(team.get("period"), now):
            continue
        for participant in team.get("participant") or []:
            # `onBehalfOf` says whom a member works for; it does not make that organisation a member
            if (participant.get("member") or {}).get("reference") in me and _period_covers(participant.get("period"), now):
                return True
    return False


def represents(store: MongoStore, actor: Actor, facts: PatientFacts, now: datetime, majority: int) -> bool:
    """A RelatedPerson is a legal representative while the patient is a minor and the link is active."""
    doc = store.read_doc("RelatedPerson", actor.id)
    if doc is None or doc.get("deleted"):
        return False
    person = doc["res"]
    if (person.get("patient") or {}).get("reference") != f"Patient/{facts.id}" or person.get("active") is False:
        return False
    codes = {c.get("code") for r in person.get("relationship") or [] for c in r.get("coding") or []}
    return bool(codes & LEGAL_REPRESENTATIVE_CODES) and _period_covers(person.get("period"), now) \
        and facts.is_minor(now.date(), majority)


def permits_for(facts: PatientFacts, actor: Actor) -> list[dict]:
    """The periods of the active permits naming the actor (or its establishment), current or not:
    what $access-status reports as 'valid until' or 'expired'."""
    return [c["provision"].get("period") or {} for c in facts.consents
            if (c.get("provision") or {}).get("type") == "permit" and _actors(c["provision"]) & identities(actor)]


period_covers = _period_covers
