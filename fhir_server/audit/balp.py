"""AuditEvent builders following IHE BALP (https://profiles.ihe.net/ITI/BALP/):
PatientRead, PatientQuery, PatientCreate, PatientUpdate, PatientDelete, and AuthZconsent for refusals."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime

from ..auth.actor import Actor

BALP = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."
REST_TYPE = {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest",
             "display": "Restful Operation"}
AUTHZ_TYPE = {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110113", "display": "Security Alert"}
INTERACTION_SYSTEM = "http://hl7.org/fhir/restful-interaction"
OPERATION_SYSTEM = "https://dmp-fhir-server.example/fhir/CodeSystem/operation"   # capability/CodeSystem-operation.json
ACCESS_MODE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/TRE-R248-ModeAcces"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
ID_LIKE = re.compile(r"[A-Za-z0-9\-.]{1,64}")   # a FHIR id (the query text of a trace may name one)
SERVER = {"reference": "Device/dmp-fhir-server", "display": "dmp-fhir-server"}
# what differs between the traces of two requests of one client doing the same thing: the trace's id and instants
# (set by the writer), the records and resources it names and the request id (entity.what), the query text
VARYING = ("id", "meta.lastUpdated", "recorded", "entity.what", "entity.query")

# interaction kind -> (BALP profile, action, restful-interaction code)
PATTERNS = {
    "read": ("PatientRead", "R", "read"), "vread": ("PatientRead", "R", "vread"),
    "history-instance": ("PatientRead", "R", "history-instance"),
    "search-type": ("PatientQuery", "E", "search-type"), "search-system": ("PatientQuery", "E", "search-system"),
    "history-type": ("PatientQuery", "E", "history-type"), "history-system": ("PatientQuery", "E", "history-system"),
    "create": ("PatientCreate", "C", "create"), "update": ("PatientUpdate", "U", "update"),
    "patch": ("PatientUpdate", "U", "patch"), "delete": ("PatientDelete", "D", "delete"),
    "operation": ("PatientUpdate", "E", "operation"),
    "bundle": ("PatientUpdate", "E", "transaction"),
}
# operations that read: $everything is a query of the record, $validate changes nothing
READ_OPERATIONS = {"everything": ("PatientQuery", "E", "operation"), "validate": ("PatientRead", "E", "operation")}


SUCCESS = "0"       # AuditEvent.outcome of an interaction that succeeded


@dataclass
class Trace:
    """What one interaction did, collected by the services, turned into AuditEvents by the writer."""
    kind: str
    resource_type: str | None
    query: str | None = None
    operation: str | None = None
    touched: dict[str, list[str]] = field(default_factory=dict)   # patient id ('' for none) -> references
    outcome: str = SUCCESS
    outcome_text: str | None = None
    refused: bool = False
    hidden: bool = False        # answered "not found" because the resource is hidden from the actor

    def touch(self, patient_ids: list[str] | tuple[str, ...], reference: str | None = None) -> None:
        for pid in patient_ids or [""]:
            refs = self.touched.setdefault(pid, [])
            if reference and reference not in refs:
                refs.append(reference)

    def documents(self, patient_id: str) -> list[str]:
        """Every document (or Binary) the trace names, in its entities or anywhere in its query text: the
        holder's view of traces leaves out those naming what is hidden from them (audit_scope)."""
        named = [r for r in self.touched.get(patient_id, []) if r.startswith(("DocumentReference/", "Binary/"))]
        words = sorted(set(ID_LIKE.findall(self.query or ""))) if self.query else []
        return named + [f"{t}/{w}" for w in words for t in ("DocumentReference", "Binary")]


def audit_event(trace: Trace, actor: Actor, patient_id: str, references: list[str], recorded: datetime,
                request_id: str, recorded_text: str) -> dict:
    profile, action, subtype = _pattern(trace)
    if trace.refused:
        profile = "AuthZconsent"
    event: dict = {
        "resourceType": "AuditEvent",
        "meta": {"profile": [BALP + profile]},
        "type": AUTHZ_TYPE if trace.refused else REST_TYPE,
        "subtype": [_subtype(trace, subtype)],
        "action": action,
        "recorded": recorded_text,
        "outcome": trace.outcome,
        "agent": [_requestor(actor), *_organization(actor), _server_agent()],
        "source": {"observer": SERVER, "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                                                 "code": "4", "display": "Application Server"}]},
        "entity": _entities(trace, patient_id, references, request_id),
    }
    if trace.outcome_text:
        event["outcomeDesc"] = trace.outcome_text[:1000]
    if actor.access_mode != "normal":
        event["purposeOfEvent"] = _purpose(actor)
    return event


def _pattern(trace: Trace) -> tuple[str, str, str]:
    if trace.kind == "operation" and trace.operation in READ_OPERATIONS:
        return READ_OPERATIONS[trace.operation]
    return PATTERNS.get(trace.kind, ("PatientRead", "E", trace.kind))


def _subtype(trace: Trace, code: str) -> dict:
    if trace.kind == "operation":
        return {"system": OPERATION_SYSTEM, "code": trace.operation or "operation"}
    return {"system": INTERACTION_SYSTEM, "code": code}


# purposeOfUse is bound (extensible) to v3 PurposeOfUse: each TRE_R248 mode carries its v3-ActReason twin
V3_PURPOSE = {"normal": ("TREAT", "treatment"), "bris_de_glace": ("ETREAT", "Emergency Treatment"),
              "centre_15": ("ETREAT", "Emergency Treatment")}


def _purpose(actor: Actor) -> list[dict]:
    codings = [{"system": ACCESS_MODE_SYSTEM, "code": actor.access_mode}]
    if actor.access_mode in V3_PURPOSE:
        code, display = V3_PURPOSE[actor.access_mode]
        codings.append({"system": ACT_REASON, "code": code, "display": display})
    if actor.access_mode == "bris_de_glace":
        codings.append({"system": ACT_REASON, "code": "BTG", "display": "break the glass"})
    return [{"coding": codings, **({"text": actor.reason} if actor.reason else {})}]


def _requestor(actor: Actor) -> dict:
    agent: dict = {
        "type": {"coding": [{"system": DICOM, "code": "110153", "display": "Source Role ID"}]},
        "who": {"reference": actor.reference},
        "requestor": True,
        "purposeOfUse": _purpose(actor),
    }
    if actor.client_ip:
        agent["network"] = {"address": actor.client_ip, "type": "2"}
    if actor.token_id:
        agent["policy"] = [actor.token_id]
    return agent


def _organization(actor: Actor) -> list[dict]:
    if not actor.organization:
        return []
    return [{"type": {"text": "organization the requestor acts for"}, "who": {"reference": actor.organization},
             "requestor": False}]


def _server_agent() -> dict:
    return {"type": {"coding": [{"system": DICOM, "code": "110152", "display": "Destination Role ID"}]},
            "who": SERVER, "requestor": False}


def _entities(trace: Trace, patient_id: str, references: list[str], request_id: str) -> list[dict]:
    entities = []
    if patient_id:
        entities.append({"what": {"reference": f"Patient/{patient_id}"},
                         "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                         "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"}})
    for ref in references:
        entities.append({"what": {"reference": ref}, "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                         "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"}})
    if trace.query is not None:
        entities.append({"type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                         "role": {"system": OBJECT_ROLE, "code": "24", "display": "Query"},
                         "query": base64.b64encode(trace.query.encode()).decode()})
    entities.append({"what": {"identifier": {"value": request_id}},
                     "type": {"system": "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType",
                              "code": "XrequestId"}})
    return entities
