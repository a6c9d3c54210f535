"""Who may be concerned by a record: every actor the record's own resources name (the holder, the legal
representatives, the médecins traitants, care-team members, actors of its Consents, authors of its documents),
each with the sources that name them. $access-list and $who-can-see then ask the ONE policy about each of them
(Policy.decide, and the read check itself): this module only finds whom to ask, it decides nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..auth.actor import Actor
from ..search.compile import compile_search
from ..storage.mongo import MongoStore
from .decisions import INVISIBLE_REPRESENTANTS_LEGAUX
from .relationships import PatientFacts


@dataclass
class Source:
    kind: str                   # medecin_traitant | care_team | consent | author | legal_representative | holder
    resource: str               # the resource that says so (Patient/…, CareTeam/…, Consent/…, DocumentReference/…)
    until: str | None = None    # end of the period, when the source has one
    by: str | None = None       # who recorded it (Consent.performer)
    deny: bool = False          # a block (Consent provision deny)
    confidential: bool = False  # known only through a minor's confidential document (R1111-50)


@dataclass
class Candidate:
    actor: Actor
    sources: list[Source] = field(default_factory=list)


def candidates(store: MongoStore, facts: PatientFacts) -> list[Candidate]:
    found: dict[tuple[str, str | None], Candidate] = {}

    def add(reference: str, source: Source, organization: str | None = None) -> None:
        kind = reference.split("/", 1)[0]
        if kind == "Organization":       # an establishment reaches the record through its professionals
            for practitioner in _staff(store, reference):
                add(practitioner, source, reference)
            return
        if kind not in ("Practitioner", "Patient", "RelatedPerson"):
            return
        key = (reference, organization)
        found.setdefault(key, Candidate(Actor(reference, organization=organization))).sources.append(source)

    add(f"Patient/{facts.id}", Source("holder", f"Patient/{facts.id}"))
    for doc in store.find("RelatedPerson", {"_acl.patients": facts.id, "deleted": False}):
        add(f"RelatedPerson/{doc['_id']}", Source("legal_representative", f"RelatedPerson/{doc['_id']}"))
    for mt in sorted(facts.medecins_traitants):
        add(mt, Source("medecin_traitant", f"Patient/{facts.id}"))
    for team in facts.care_teams:
        for p in team.get("participant") or []:
            member = (p.get("member") or {}).get("reference")
            if member:
                until = (p.get("period") or {}).get("end") or (team.get("period") or {}).get("end")
                add(member, Source("care_team", f"CareTeam/{team['id']}", until))
    for consent in facts.consents:
        provision = consent.get("provision") or {}
        by = next((p.get("reference") for p in consent.get("performer") or []), None)
        for a in provision.get("actor") or []:
            reference = (a.get("reference") or {}).get("reference")
            if reference:
                add(reference, Source("consent", f"Consent/{consent['id']}", (provision.get("period") or {}).get("end"),
                                      by, deny=provision.get("type") == "deny"))
    for doc in store.find("DocumentReference", {"_acl.patients": facts.id, "deleted": False},
                          projection={"_acl": 1}):
        secret = INVISIBLE_REPRESENTANTS_LEGAUX in doc["_acl"].get("labels", [])
        for author in doc["_acl"].get("authors", []):
            if author.startswith("Practitioner/"):
                add(author, Source("author", f"DocumentReference/{doc['_id']}", confidential=secret))
    return list(found.values())


def _staff(store: MongoStore, organization: str) -> list[str]:
    query = compile_search("PractitionerRole", [("organization", organization)])
    return sorted({r["res"]["practitioner"]["reference"] for r in store.find("PractitionerRole", query.filter)
                   if r["res"].get("active") is not False and (r["res"].get("practitioner") or {}).get("reference")})
