"""The second-round operations that explain access (CONTRACT.md "Operations added in the second round"):
`Patient/$access-status` and `Patient/{id}/$access-status` (DMP TD0.2), computed by access/status.py from the
same facts and rules the policy enforces. Read-only, GET or POST, traced in the record they name."""

from __future__ import annotations

from dataclasses import replace as with_fields

from ..access.audience import Candidate, candidates
from ..access.audit_scope import audit_scope
from ..access.decisions import (EMERGENCY_MODES, EMERGENCY_SEES_MASKED, INVISIBLE_PATIENT,
                                INVISIBLE_REPRESENTANTS_LEGAUX, MASQUE_PS)
from ..access.labels import HOLDER_SIDE
from ..access.relationships import blocked, identities
from ..access.status import AccessStatus, access_status
from ..errors import BadRequest, Forbidden, Hidden, NotFound
from ..search.compile import compile_search
from .context import Context, Interaction, Outcome
from .guard import check_readable
from .parameters import parameters, required
from .read import readable_current
from .writing import instant

INS_SYSTEMS = ("urn:oid:1.2.250.1.213.1.4.8", "urn:oid:1.2.250.1.213.1.4.9", "urn:oid:1.2.250.1.213.1.4.10",
               "urn:oid:1.2.250.1.213.1.4.11")


def access_status_operation(ctx: Context, it: Interaction) -> Outcome:
    if not (ctx.actor.is_trusted_system or ctx.actor.resource_type == "Practitioner"):
        raise Forbidden("$access-status is for professionals and trusted systems (the holder reads their record)")
    patient_id = it.id if it.id is not None else _by_ins(ctx, required(parameters(it), "identifier"))
    status = access_status(ctx.policy, patient_id)
    if status.exists:
        ctx.trace.touch([patient_id], f"Patient/{patient_id}")     # traced in the record asked about
    return Outcome(200, _as_parameters(status))


def _by_ins(ctx: Context, identifier: object) -> str | None:
    if isinstance(identifier, dict):        # valueIdentifier in a POSTed Parameters
        identifier = f"{identifier.get('system')}|{identifier.get('value') or ''}"
    system, bar, value = str(identifier).partition("|")
    if not bar or system not in INS_SYSTEMS or not value:
        raise BadRequest("identifier must be <INS system>|<INS>, the system one of " + ", ".join(INS_SYSTEMS),
                         expression="identifier")
    query = compile_search("Patient", [("identifier", f"{system}|{value}")])
    found = ctx.store.find("Patient", {"$and": [query.filter, {"deleted": False}]}, limit=2)
    if len(found) > 1:
        raise BadRequest(f"several records carry the INS {value}: ask the operator", code="multiple-matches")
    return found[0]["_id"] if found else None


def _as_parameters(status: AccessStatus) -> dict:
    parts: list[dict] = [{"name": "recordExists", "valueBoolean": status.exists}]
    if status.exists:
        parts.append({"name": "status", "valueCode": status.record})
        parts += _optional("openingDate", "valueDateTime", status.opening_date)
        parts += _optional("closureDate", "valueDateTime", status.closure_date)
        authorization = [{"name": "status", "valueCode": status.authorization}]
        authorization += _optional("basis", "valueCode", status.basis)
        authorization += _optional("validUntil", "valueDateTime", status.valid_until)
        authorization += _optional("expiredOn", "valueDateTime", status.expired_on)
        parts.append({"name": "authorization", "part": authorization})
        parts += _optional("medecinTraitant", "valueBoolean", status.medecin_traitant)
        parts += [{"name": "emergencyMode", "valueCode": mode} for mode in status.emergency_modes]
        if status.patient_id:
            parts.append({"name": "patient", "valueReference": {"reference": f"Patient/{status.patient_id}"}})
    return {"resourceType": "Parameters", "parameter": parts}


def _optional(name: str, kind: str, value) -> list[dict]:
    return [] if value is None else [{"name": name, kind: value}]




# -- who can reach the record, who can see a document -------------------------------------------------------
def _as(ctx: Context, actor) -> Context:
    """The same request as seen by another actor: the one policy, asked for them (nothing traced for them)."""
    return with_fields(ctx, actor=actor, _policy=None, trace=None)


def _holder_side_or_system(ctx: Context, patient_id: str, operation: str, allowed: tuple[str, ...]) -> None:
    decision = ctx.policy.decide(patient_id)
    if not ctx.actor.is_trusted_system and not (decision.allowed and decision.relationship in allowed):
        raise Forbidden(f"${operation} is for the holder{', a legal representative' if len(allowed) > 1 else ''} "
                        "of the record and trusted systems")


def access_list(ctx: Context, it: Interaction) -> Outcome:
    """Rule 1 (L1111-19): the professionals who can reach the record and why, those blocked, the emergency
    accesses that took place, each with the operation that acts on it."""
    patient = readable_current(ctx, "Patient", it.id)
    _holder_side_or_system(ctx, it.id, "access-list", HOLDER_SIDE)
    facts = ctx.policy.facts(it.id)
    representative = ctx.policy.decide(it.id).relationship == "legal_representative"
    entries = []
    for candidate in candidates(ctx.store, facts):
        if candidate.actor.resource_type != "Practitioner":
            continue
        if representative and all(s.confidential for s in candidate.sources):
            continue     # R1111-50: known only through the minor's confidential care
        entry = _reach(ctx, facts, candidate, representative)
        if entry is not None:
            entries.append(entry)
    base = f"{ctx.base_url}/Patient/{patient.id}"
    parts = [{"name": "professional", "part": e} for e in entries]
    parts += [{"name": "emergencyAccess", "part": e} for e in _emergency_accesses(ctx, it.id, base)]
    return Outcome(200, {"resourceType": "Parameters", "parameter": parts})


def _reach(ctx: Context, facts, candidate: Candidate, representative: bool) -> list[dict] | None:
    policy = _as(ctx, candidate.actor).policy
    base = f"{ctx.base_url}/Patient/{facts.id}"
    is_blocked = blocked(facts, candidate.actor, policy.organizations())
    decision = policy.decide(facts.id)
    if not decision.allowed and not is_blocked:
        return None
    parts = _actor_parts(candidate.actor)
    parts.append({"name": "access", "valueCode": "blocked" if is_blocked else decision.relationship})
    for source in candidate.sources:
        if representative and source.confidential:
            continue
        if source.kind == "consent" and source.deny != is_blocked:
            continue
        basis = [{"name": "kind", "valueCode": "block" if source.deny else source.kind},
                 {"name": "source", "valueReference": {"reference": source.resource}}]
        basis += _optional("until", "valueDateTime", source.until)
        basis += _optional("recordedBy", "valueReference", {"reference": source.by} if source.by else None)
        parts.append({"name": "basis", "part": basis})
    action = "$withdraw-opposition" if is_blocked else "$oppose"
    parts.append({"name": "action", "valueUri": f"{base}/{action}"})
    return parts


def _actor_parts(actor) -> list[dict]:
    parts = [{"name": "actor", "valueReference": {"reference": actor.reference}}]
    return parts + _optional("onBehalfOf", "valueReference",
                             {"reference": actor.organization} if actor.organization else None)


def _emergency_accesses(ctx: Context, patient_id: str, base: str) -> list[list[dict]]:
    query = compile_search("AuditEvent", [("patient", f"Patient/{patient_id}"), ("purpose", ",".join(EMERGENCY_MODES))])
    view = audit_scope(ctx.policy)
    seen, out = set(), []
    for doc in ctx.store.find("AuditEvent", {"$and": [query.filter] + ([view] if view else [])}, sort=[("_id", 1)]):
        event = doc["res"]
        agent = next((a for a in event.get("agent") or [] if a.get("requestor")), {})
        who = (agent.get("who") or {}).get("reference")
        mode = next((c.get("code") for p in agent.get("purposeOfUse") or [] for c in p.get("coding") or []
                     if c.get("code") in EMERGENCY_MODES), None)
        day = (event.get("recorded") or "")[:10]
        if not who or (who, mode, day) in seen:
            continue
        seen.add((who, mode, day))
        out.append([{"name": "actor", "valueReference": {"reference": who}},
                    {"name": "mode", "valueCode": mode or "bris_de_glace"},
                    {"name": "date", "valueDateTime": event.get("recorded")},
                    {"name": "trace", "valueReference": {"reference": f"AuditEvent/{doc['_id']}"}},
                    {"name": "action", "valueUri": f"{base}/$oppose"},
                    {"name": "action", "valueUri": f"{base}/$oppose-emergency-access"}])
    return out


def who_can_see(ctx: Context, it: Interaction) -> Outcome:
    """Which actors can see this document now and by which rule: each answer IS the read check
    (guard.check_readable) run as that actor, so it cannot disagree with what a read does."""
    document = readable_current(ctx, "DocumentReference", it.id)
    doc = ctx.store.read_doc("DocumentReference", it.id)
    acl = doc.get("_acl") or {}
    parts: list[dict] = []
    for pid in acl.get("patients") or []:
        _holder_side_or_system(ctx, pid, "who-can-see", ("holder",))
        for candidate in candidates(ctx.store, ctx.policy.facts(pid)):
            parts.append({"name": "actor", "part": _sees(ctx, pid, candidate, doc)})
    parts += [{"name": "label", "valueCode": label} for label in acl.get("labels", [])]
    parts += _optional("hiddenFromHolderUntil", "valueDateTime",
                       instant(acl["hidden_until"]) if acl.get("hidden_until") and acl["hidden_until"] > ctx.now else None)
    parts.append({"name": "emergency", "valueString": _emergency_rule(acl)})
    parts.insert(0, {"name": "document", "valueReference": {"reference": f"DocumentReference/{document.id}"}})
    return Outcome(200, {"resourceType": "Parameters", "parameter": parts})


def verdict(ctx: Context, actor, doc: dict) -> tuple[bool, str | None]:
    """Can `actor` read this stored document now? The enforcement code itself answers (and why not)."""
    try:
        check_readable(_as(ctx, actor), "DocumentReference", doc)
        return True, None
    except (Forbidden, Hidden, NotFound) as refusal:
        return False, refusal.diagnostics


def _sees(ctx: Context, pid: str, candidate: Candidate, doc: dict) -> list[dict]:
    sees, why_not = verdict(ctx, candidate.actor, doc)
    decision = _as(ctx, candidate.actor).policy.decide(pid)
    parts = _actor_parts(candidate.actor) + [{"name": "canSee", "valueBoolean": sees},
                                             {"name": "rule", "valueCode": decision.relationship}]
    if not sees:
        label, until = _hidden_by(_as(ctx, candidate.actor).policy, decision, doc.get("_acl") or {})
        parts += _optional("hiddenBy", "valueCode", label)
        parts += _optional("hiddenUntil", "valueDateTime", until)
        parts.append({"name": "reason", "valueString": decision.reason if not decision.allowed else why_not})
    return parts


def _hidden_by(policy, decision, acl: dict) -> tuple[str | None, str | None]:
    """Which label (or the access matrix) explains a refusal the read check made."""
    labels = set(acl.get("labels", []))
    if not decision.allowed:
        return None, None
    if decision.relationship in HOLDER_SIDE and acl.get("hidden_until") and acl["hidden_until"] > policy.now:
        return INVISIBLE_PATIENT, instant(acl["hidden_until"])
    if decision.relationship == "legal_representative" and INVISIBLE_REPRESENTANTS_LEGAUX in labels:
        return INVISIBLE_REPRESENTANTS_LEGAUX, None
    if decision.relationship == "author":
        return "not-author", None
    if MASQUE_PS in labels and not identities(policy.actor) & set(acl.get("authors", [])):
        return MASQUE_PS, None
    return "access-matrix", None


def _emergency_rule(acl: dict) -> str:
    masked = MASQUE_PS in acl.get("labels", []) and not EMERGENCY_SEES_MASKED
    return ("not shown in emergency modes (masked by the holder)" if masked else
            "shown in emergency modes (bris_de_glace, centre_15) unless the holder objected to the mode, "
            "within what the professional's profession may read")


ACCESS_OPERATIONS = {
    ("Patient", "access-status", False): access_status_operation,
    ("Patient", "access-status", True): access_status_operation,
    ("Patient", "access-list", True): access_list,
    ("DocumentReference", "who-can-see", True): who_can_see,
}
