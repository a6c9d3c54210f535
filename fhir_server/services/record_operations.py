"""Operations on the record as a whole (Patient/{id}/$…): blocks, emergency objections, authorisations,
closing and reactivating. Each checks who may call it, then writes through the ordinary versioned path
(`decided=True`: the operation's own rule replaces the generic write rule, e.g. a PS records a Consent)."""

from __future__ import annotations

import copy

from ..access.acl import dmp_status
from ..access.decisions import ACCESS_MODE_SYSTEM, DMP_ACTIVE, DMP_CLOSED, DMP_STATUS_URL, EMERGENCY_MODES
from ..access.labels import HOLDER_SIDE
from ..access.relationships import blocked
from ..auth.actor import Actor
from ..errors import BadRequest, Forbidden, Issue, NotFound, operation_outcome
from ..search.compile import compile_search
from ..storage.base import Stored
from .context import Context, Interaction, Outcome
from .parameters import as_bool, parameters, required
from .read import outcome_of
from .writing import checked_body, instant, new_id, store_version

CONSENT_BASE = {
    "resourceType": "Consent",
    "status": "active",
    "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
    "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}],
}
POLICY_RULE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
RECIPIENT_ROLE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]}


# -- who may call ---------------------------------------------------------------------------------
def _patient(ctx: Context, it: Interaction) -> Stored:
    stored = ctx.store.read("Patient", it.id)
    if stored is None or stored.deleted:
        raise NotFound(f"Patient/{it.id} not found")
    ctx.trace.touch([it.id], f"Patient/{it.id}")
    return stored


def _holder_side(ctx: Context, it: Interaction, *, holder_only: bool = False) -> Stored:
    patient = _patient(ctx, it)
    decision = ctx.policy.decide(it.id)
    allowed = ("holder",) if holder_only else HOLDER_SIDE
    if not ctx.actor.is_trusted_system and not (decision.allowed and decision.relationship in allowed):
        who = "the holder" if holder_only else "the holder or a legal representative"
        raise Forbidden(f"${it.operation} is for {who} of Patient/{it.id}")
    return patient


def _open_record(ctx: Context, patient: Stored) -> None:
    if dmp_status(patient.resource)["status"] == DMP_CLOSED:
        raise Forbidden(f"the record of Patient/{patient.id} is closed")


# -- blocks and emergency objections --------------------------------------------------------------
def oppose(ctx: Context, it: Interaction) -> Outcome:
    patient = _holder_side(ctx, it)
    target = _actor_reference(required(parameters(it), "actor"))
    provision = {"type": "deny", "actor": [{"role": RECIPIENT_ROLE, "reference": {"reference": target}}]}
    return _new_consent(ctx, patient, provision, "OPTOUT")


def withdraw_opposition(ctx: Context, it: Interaction) -> Outcome:
    _holder_side(ctx, it)
    target = _actor_reference(required(parameters(it), "actor"))
    lifted = _deactivate(ctx, it.id, lambda p: p.get("type") == "deny" and target in _provision_actors(p))
    return _message(f"{lifted} block(s) on {target} lifted")


def oppose_emergency_access(ctx: Context, it: Interaction) -> Outcome:
    patient = _holder_side(ctx, it)
    values = parameters(it)
    mode = required(values, "mode")
    if mode not in EMERGENCY_MODES:
        raise BadRequest(f"mode must be one of {', '.join(EMERGENCY_MODES)}", expression="mode")
    if values.get("withdraw") is not None and as_bool(values["withdraw"]):
        lifted = _deactivate(ctx, it.id, lambda p: p.get("type") == "deny" and mode in _provision_purposes(p))
        return _message(f"{lifted} objection(s) to {mode} withdrawn")
    provision = {"type": "deny", "purpose": [{"system": ACCESS_MODE_SYSTEM, "code": mode}]}
    return _new_consent(ctx, patient, provision, "OPTOUT")


# -- authorisations ------------------------------------------------------------------------------
def authorize(ctx: Context, it: Interaction) -> Outcome:
    """Rule 2: the holder, or a PS on the patient's recorded consent (for themselves or another PS)."""
    patient = _patient(ctx, it)
    _open_record(ctx, patient)
    values = parameters(it)
    target = _actor_reference(values.get("actor") or ctx.actor.reference)
    decision = ctx.policy.decide(it.id)
    if ctx.actor.access_mode != "normal":
        raise Forbidden("emergency access is read-only: no authorisation is recorded in that mode")
    if ctx.actor.resource_type == "Practitioner":
        if ctx.policy.facts(it.id) and blocked(ctx.policy.facts(it.id), ctx.actor, ctx.policy.organizations()):
            raise Forbidden("the holder has blocked this professional or establishment: no authorisation")
    elif not (decision.allowed and decision.relationship in HOLDER_SIDE) and not ctx.actor.is_trusted_system:
        raise Forbidden("$authorize is for the holder, a legal representative or a professional")
    facts = ctx.policy.facts(it.id)
    if facts is not None and blocked(facts, Actor(reference=target)):
        raise Forbidden(f"{target} is blocked by the holder: it cannot be authorised")
    provision: dict = {"type": "permit", "actor": [{"role": RECIPIENT_ROLE, "reference": {"reference": target}}],
                       "period": {"start": instant(ctx.now)}}
    period = values.get("period")
    if isinstance(period, dict) and period.get("end"):
        provision["period"] = {"start": period.get("start") or instant(ctx.now), "end": period["end"]}
    return _new_consent(ctx, patient, provision, "OPTIN")


# -- lifecycle ------------------------------------------------------------------------------------
def close_dmp(ctx: Context, it: Interaction) -> Outcome:
    patient = _holder_side(ctx, it, holder_only=True)
    values = parameters(it)
    reason = required(values, "reason")
    if dmp_status(patient.resource)["status"] == DMP_CLOSED:
        raise BadRequest("the record is already closed")
    status = [{"url": "status", "valueCode": DMP_CLOSED}, {"url": "closureDate", "valueDateTime": instant(ctx.now)},
              {"url": "closureReason", "valueString": str(reason)}]
    if values.get("deleteData") is not None and as_bool(values["deleteData"]):
        # an express deletion request: the data goes 3 months later instead of 10 years (R1111-36)
        status.append({"url": "deletionRequested", "valueDateTime": instant(ctx.now)})
    return _set_status(ctx, patient, status)


def reactivate_dmp(ctx: Context, it: Interaction) -> Outcome:
    patient = _holder_side(ctx, it, holder_only=True)
    if dmp_status(patient.resource)["status"] != DMP_CLOSED:
        raise BadRequest("the record is not closed")
    return _set_status(ctx, patient, [{"url": "status", "valueCode": DMP_ACTIVE}])


def _set_status(ctx: Context, patient: Stored, status: list[dict]) -> Outcome:
    resource = copy.deepcopy(patient.resource)
    others = [e for e in resource.get("extension") or [] if e.get("url") != DMP_STATUS_URL]
    resource["extension"] = others + [{"url": DMP_STATUS_URL, "extension": status}]
    stored = store_version(ctx, "update", "Patient", patient.id, resource, patient.version, patient, decided=True)
    return outcome_of(stored)


# -- helpers --------------------------------------------------------------------------------------
def _actor_reference(value: object) -> str:
    if not isinstance(value, str) or value.split("/", 1)[0] not in ("Practitioner", "Organization") \
            or not value.partition("/")[2]:
        raise BadRequest("actor must be a reference to a Practitioner or an Organization", expression="actor")
    return value


def _new_consent(ctx: Context, patient: Stored, provision: dict, rule: str) -> Outcome:
    consent = {**CONSENT_BASE, "patient": {"reference": f"Patient/{patient.id}"}, "dateTime": instant(ctx.now),
               "performer": [{"reference": ctx.actor.reference}],
               "policyRule": {"coding": [{"system": POLICY_RULE, "code": rule}]}, "provision": provision}
    consent = checked_body(consent, "Consent")
    stored = store_version(ctx, "create", "Consent", new_id(), consent, None, None, decided=True)
    return outcome_of(stored, 201, created=True)


def _deactivate(ctx: Context, patient_id: str, matches) -> int:
    query = compile_search("Consent", [("patient", f"Patient/{patient_id}"), ("status", "active")])
    count = 0
    for doc in ctx.store.find("Consent", query.filter):
        consent = doc["res"]
        if matches(consent.get("provision") or {}):
            current = Stored.from_doc("Consent", doc)
            store_version(ctx, "update", "Consent", current.id, {**consent, "status": "inactive"}, current.version,
                          current, decided=True)
            count += 1
    return count


def _provision_actors(provision: dict) -> set[str]:
    return {a.get("reference", {}).get("reference") for a in provision.get("actor") or []}


def _provision_purposes(provision: dict) -> set[str]:
    return {p.get("code") for p in provision.get("purpose") or [] if p.get("system") == ACCESS_MODE_SYSTEM}


def _message(text: str) -> Outcome:
    return Outcome(200, operation_outcome([Issue(text, "informational", "information")]))


RECORD_OPERATIONS = {
    "oppose": oppose,
    "withdraw-opposition": withdraw_opposition,
    "oppose-emergency-access": oppose_emergency_access,
    "authorize": authorize,
    "close-dmp": close_dmp,
    "reactivate-dmp": reactivate_dmp,
}
