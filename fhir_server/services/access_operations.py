"""The second-round operations that explain access (CONTRACT.md "Operations added in the second round"):
`Patient/$access-status` and `Patient/{id}/$access-status` (DMP TD0.2), computed by access/status.py from the
same facts and rules the policy enforces. Read-only, GET or POST, traced in the record they name."""

from __future__ import annotations

from ..access.status import AccessStatus, access_status
from ..errors import BadRequest, Forbidden
from ..search.compile import compile_search
from .context import Context, Interaction, Outcome
from .parameters import parameters, required

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


ACCESS_OPERATIONS = {
    ("Patient", "access-status", False): access_status_operation,
    ("Patient", "access-status", True): access_status_operation,
}
