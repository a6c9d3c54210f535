"""The custom operations as OperationDefinition resources: one declaration feeds the CapabilityStatement
and the published artefacts in capability/ (`python -m fhir_server.operation_definitions` rewrites them)."""

from __future__ import annotations

import json
from pathlib import Path

CANONICAL = "https://dmp-fhir-server.example/fhir/OperationDefinition/"
CAPABILITY_DIR = Path(__file__).resolve().parent.parent / "capability"

# name, resource, affects state, who may call it (documentation), in-parameters (name, type, min, doc)
OPERATIONS = [
    ("hide-from-patient", "DocumentReference", True,
     "The author professional (or a professional of its establishment): adds INVISIBLE_PATIENT until the "
     "announcement consultation, for at most one month (R1111-53).",
     [("until", "dateTime", 0, "when the document becomes visible again (at most one month ahead; default one month)")]),
    ("reveal-to-patient", "DocumentReference", True,
     "A professional with access: removes INVISIBLE_PATIENT (the announcement consultation took place).", []),
    ("mask", "DocumentReference", True,
     "The holder or a legal representative: adds MASQUE_PS; the author, its establishment and the médecin "
     "traitant still see the document (R1111-49). A professional with access masks it at the holder's request "
     "(requestedBy), recorded on the label.",
     [("requestedBy", "Reference", 0, "the holder (Patient) who asked the professional to mask the document")]),
    ("unmask", "DocumentReference", True, "The holder or a legal representative: removes MASQUE_PS.", []),
    ("hide-from-representatives", "DocumentReference", True,
     "The author professional, at a minor's request: adds INVISIBLE_REPRESENTANTS_LEGAUX (R1111-50).", []),
    ("oppose", "Patient", True, "The holder or a legal representative: blocks a professional or establishment "
     "from the whole record (L1111-19).", [("actor", "Reference", 1, "Practitioner or Organization to block")]),
    ("withdraw-opposition", "Patient", True, "The holder or a legal representative: lifts a block.",
     [("actor", "Reference", 1, "Practitioner or Organization to unblock")]),
    ("oppose-emergency-access", "Patient", True,
     "The holder or a legal representative: objects to an emergency access mode (or withdraws the objection).",
     [("mode", "code", 1, "bris_de_glace or centre_15 (TRE_R248)"),
      ("withdraw", "boolean", 0, "true to withdraw the objection")]),
    ("authorize", "Patient", True,
     "The holder, or a professional on the patient's recorded consent: adds an access authorisation; refused "
     "for a blocked actor (R1111-46).",
     [("actor", "Reference", 0, "the professional authorised (default: the caller)"),
      ("period", "Period", 0, "when the authorisation applies (default: from now, without end)")]),
    ("close-dmp", "Patient", True, "The holder: closes the record (kept 10 years, or 3 months after a deletion "
     "request).", [("reason", "string", 1, "why the record is closed"),
                   ("deleteData", "boolean", 0, "an express request to delete the data")]),
    ("reactivate-dmp", "Patient", True, "The holder: reopens a closed record.", []),
    ("everything", "Patient", False, "Anyone with access: the patient compartment, filtered by the same "
     "visibility rules as read and search.", []),
    # second round (CONTRACT.md): read-only, GET or POST, answered with a Parameters resource
    ("access-status", "Patient", False,
     "A professional or a trusted system (DMP TD0.2): whether a record exists for the INS (or the id), its status "
     "(open, not-yet-open with its openingDate, closed), the caller's authorization (status valid/expired/blocked/"
     "none, basis, validUntil, expiredOn), medecinTraitant, the emergencyMode values open to the caller, and the "
     "patient reference when the caller is authorised. A blocked or unauthorised caller learns nothing more.",
     [("identifier", "string", 0, "<INS system>|<INS> (type level: Patient/$access-status)")],
     {"type": True, "out": "recordExists, status, openingDate, closureDate, authorization (parts status, basis, "
                           "validUntil, expiredOn), medecinTraitant, emergencyMode (repeated), patient"}),
    ("access-list", "Patient", False,
     "The holder, a legal representative or a trusted system (L1111-19): every professional who can reach the "
     "record (acting personally or for an establishment) and why (basis: medecin_traitant, care_team, consent with "
     "until and recordedBy, author), those blocked, and the emergency accesses that took place, each with the "
     "operation that acts on it ($oppose, $withdraw-opposition, $oppose-emergency-access). A legal representative "
     "is not told of professionals known only through the minor's confidential care.", [],
     {"out": "professional (repeated; parts actor, onBehalfOf, access, basis, action), emergencyAccess (repeated; "
             "parts actor, mode, date, trace, action)"}),
    ("who-can-see", "DocumentReference", False,
     "The holder or a trusted system: which actors the record names can see this document now and by which rule, "
     "and for the others which label (or the access matrix) hides it and until when. Each answer is the server's "
     "own read check run as that actor.", [],
     {"out": "document, actor (repeated; parts actor, onBehalfOf, canSee, rule, hiddenBy, hiddenUntil, reason), "
             "label (repeated), hiddenFromHolderUntil, emergency"}),
]


def operation_definition(name: str, resource: str, affects_state: bool, doc: str, params: list,
                         options: dict | None = None) -> dict:
    """`options`: `type` (also callable at type level), `out` (the parts of a Parameters answer)."""
    options = options or {}
    definition = {
        "resourceType": "OperationDefinition",
        "id": f"{resource}-{name}",
        "url": f"{CANONICAL}{resource}-{name}",
        "version": "0.1.0",
        "name": "".join(part.capitalize() for part in f"{resource}-{name}".replace("-", " ").split()),
        "status": "active",
        "kind": "operation",
        "publisher": "dmp-fhir-server",
        "description": doc,
        "affectsState": affects_state,
        "code": name,
        "resource": [resource],
        "system": False,
        "type": bool(options.get("type")),
        "instance": True,
        "parameter": [{"name": n, "use": "in", "min": low, "max": "1", "documentation": d, "type": t}
                      for n, t, low, d in params],
    }
    out = {"name": "return", "use": "out", "min": 1, "max": "1",
           "documentation": "the patient compartment" if name == "everything" else
           "the updated or created resource, or an OperationOutcome", "type": "Bundle" if name == "everything"
           else "Resource"}
    if options.get("out"):
        out.update(documentation=options["out"], type="Parameters")
    definition["parameter"].append(out)
    return definition


def all_definitions() -> list[dict]:
    return [operation_definition(*op) for op in OPERATIONS]


OPERATION_CODE_SYSTEM = "https://dmp-fhir-server.example/fhir/CodeSystem/operation"
VALIDATE_DOC = "FHIR's $validate (https://hl7.org/fhir/R4/resource-operation-validate.html): checks without storing."


def operation_code_system() -> dict:
    """The codes of AuditEvent.subtype for a traced operation (audit/balp.py): one per operation served."""
    concepts = {op[0]: op[3] for op in OPERATIONS}
    concepts["validate"] = VALIDATE_DOC
    return {
        "resourceType": "CodeSystem", "id": "operation", "url": OPERATION_CODE_SYSTEM, "version": "0.1.0",
        "name": "DmpFhirServerOperation", "title": "dmp-fhir-server operations", "status": "active",
        "experimental": False, "publisher": "dmp-fhir-server",
        "description": "The operations of dmp-fhir-server, as AuditEvent.subtype codes of their access traces.",
        "caseSensitive": True, "content": "complete", "count": len(concepts),
        "concept": [{"code": name, "display": f"${name}", "definition": doc} for name, doc in concepts.items()],
    }


def publish(directory: Path = CAPABILITY_DIR) -> list[Path]:
    paths = [directory / "CodeSystem-operation.json"]
    paths[0].write_text(json.dumps(operation_code_system(), indent=2, ensure_ascii=False) + "\n")
    for definition in all_definitions():
        path = directory / f"OperationDefinition-{definition['id']}.json"
        path.write_text(json.dumps(definition, indent=2, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in publish():
        print(written)
