"""What $access-status tells a professional about a record (DMP TD0.2): does it exist, is it open, is the
caller authorised (until when), are they its médecin traitant, which emergency modes are open to them.

Computed from the same facts and relationship rules as the policy (relationships.py, Policy.decide), and no
more than the law lets the caller know (decisions.ACCESS_STATUS_*): a blocked or unauthorised professional
learns the record's status and the emergency modes open to them, never who else has access or what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..instants import parse_instant
from . import decisions as rules
from .acl import dmp_status
from .lifecycle import not_open_yet
from .policy import Policy
from .relationships import blocked, identities, in_care_team, opposed, period_covers, permits_for

VALID, EXPIRED, BLOCKED, NONE = "valid", "expired", "blocked", "none"


@dataclass
class AccessStatus:
    exists: bool
    record: str | None = None               # open | not-yet-open | closed
    opening_date: str | None = None
    closure_date: str | None = None
    authorization: str = NONE               # valid | expired | blocked | none
    basis: str | None = None                # medecin_traitant | care_team | authorised | system; author
                                            # with status none/expired: their own documents only
    valid_until: str | None = None
    expired_on: str | None = None
    medecin_traitant: bool | None = None
    emergency_modes: list[str] = field(default_factory=list)
    patient_id: str | None = None           # only to a caller with a valid authorisation


def access_status(policy: Policy, patient_id: str | None) -> AccessStatus:
    facts = policy.facts(patient_id) if patient_id else None
    if facts is None:
        return AccessStatus(exists=False)
    status = dmp_status(facts.resource)
    record = "closed" if facts.closed else "not-yet-open" if not_open_yet(facts.resource, policy.now) else "open"
    out = AccessStatus(exists=True, record=record, opening_date=status.get("openingDate") if record != "closed" else None)
    if policy.actor.is_trusted_system:
        out.authorization, out.basis, out.patient_id = VALID, "system", facts.id
        out.closure_date = status.get("closureDate")
        return out
    if blocked(facts, policy.claimed, policy.organizations()):     # a claimed organisation too (policy.py)
        out.authorization = BLOCKED      # rule 3: told they are blocked (DMP "INTERDIT"), nothing else
        return out
    _authorisation(policy, facts, out)
    if out.authorization == VALID:
        out.patient_id = facts.id
        out.medecin_traitant = out.basis == "medecin_traitant"
        if out.medecin_traitant and rules.ACCESS_STATUS_CLOSURE_DATE_TO_MT:
            out.closure_date = status.get("closureDate")
    if record == "open":
        out.emergency_modes = [m for m in rules.EMERGENCY_MODES if not opposed(facts, m)]
    return out


def _authorisation(policy: Policy, facts, out: AccessStatus) -> None:
    actor, now = policy.actor, policy.now
    if actor.reference in facts.medecins_traitants:
        out.authorization, out.basis = VALID, "medecin_traitant"
    elif in_care_team(facts, actor, now):
        out.authorization, out.basis = VALID, "care_team"
        out.valid_until = _care_team_end(policy, facts)
    else:
        periods = permits_for(facts, actor)
        current = [p for p in periods if period_covers(p, now)]
        if current:
            ends = [p.get("end") for p in current]
            out.authorization, out.basis = VALID, "authorised"
            out.valid_until = None if None in ends else max(ends, key=_instant)
        elif [p for p in periods if p.get("end") and _instant(p["end"]) < now]:
            out.authorization = EXPIRED
            out.expired_on = max((p["end"] for p in periods if p.get("end")), key=_instant)
        if out.authorization != VALID and rules.AUTHOR_SEES_OWN_DOCUMENTS and policy.authored_any(facts.id):
            out.basis = "author"     # no right on the record; their own documents only (decisions.py)


def _care_team_end(policy: Policy, facts) -> str | None:
    """The latest end among the active teams listing the caller (None: open-ended)."""
    ends = []
    me = identities(policy.actor)
    for team in facts.care_teams:
        if not period_covers(team.get("period"), policy.now):
            continue
        for p in team.get("participant") or []:
            if (p.get("member") or {}).get("reference") in me and period_covers(p.get("period"), policy.now):
                ends.append((p.get("period") or {}).get("end") or (team.get("period") or {}).get("end"))
    return None if not ends or None in ends else max(ends, key=_instant)


def _instant(value: str):
    return parse_instant(value, "period.end")
