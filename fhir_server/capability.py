"""The CapabilityStatement, generated from what the server implements (types, interactions, search
parameters), so that it cannot claim what the code does not do. `capability/` holds the published copy."""

from __future__ import annotations

from .fhir_types import SERVER_WRITTEN_TYPES, SUPPORTED_TYPES
from .operation_definitions import all_definitions
from .search.registry import registry
from .services.conformance import CONFORMANCE_TYPES, SEARCH_PARAMS
from .validation.profiles import profiled_types

SOFTWARE_VERSION = "0.1.0"
READ_INTERACTIONS = ["read", "vread", "search-type", "history-instance", "history-type"]
WRITE_INTERACTIONS = ["create", "update", "patch", "delete"]
VALIDATE = "http://hl7.org/fhir/OperationDefinition/Resource-validate"
PDSM_MANAGER = "https://interop.esante.gouv.fr/ig/fhir/pdsm/CapabilityStatement/PDSm-GestionnaireDePartageDeDocuments"
PROFILE_BASE = "https://dmp-fhir-server.example/fhir/StructureDefinition/"


def capability_statement() -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "id": "dmp-fhir-server",
        "url": "https://dmp-fhir-server.example/fhir/CapabilityStatement/dmp-fhir-server",
        "name": "DmpFhirServer",
        "title": "dmp-fhir-server: the French DMP over FHIR R4, privacy rules enforced by the server",
        "status": "active",
        "date": "2026-11-22",
        "publisher": "dmp-fhir-server",
        "kind": "instance",
        "software": {"name": "dmp-fhir-server", "version": SOFTWARE_VERSION},
        "implementation": {"description": "dmp-fhir-server: the DMP rules enforced in the query path"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json", "application/fhir+xml", "xml"],
        "patchFormat": ["application/json-patch+json", "application/fhir+json", "application/fhir+xml"],
        "rest": [_rest()],
    }


def _rest() -> dict:
    return {
        "mode": "server",
        # aligned on the PDSm manager, not claimed (`instantiates`): profiles/README.md lists the differences
        "documentation": f"Aligned on ANS PDSm ({PDSM_MANAGER}): ITI-65 (transaction), ITI-66/67 (search), "
                         "ITI-68 (Binary read), replacement (relatesTo replaces). Not a conformance claim: the "
                         "PDSm constraints the server does not follow are listed in profiles/README.md.",
        "security": {
            "cors": False,
            "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                     "code": "SMART-on-FHIR"}]}],
            "description": "Bearer JWT (HS256 shared key or RS256/ES256 from a JWKS); SMART v2 scopes per "
                           "interaction; claims sub, scope, purpose_of_use, access_reason, organization.",
        },
        "resource": [_resource(t) for t in SUPPORTED_TYPES] + [_artefact(t) for t in CONFORMANCE_TYPES],
        "interaction": [{"code": c} for c in ("transaction", "batch", "history-system", "search-system")],
        "compartment": ["http://hl7.org/fhir/CompartmentDefinition/patient"],
        "searchParam": [_search_param(p) for p in _common_params()],
    }


def _resource(resource_type: str) -> dict:
    writable = resource_type not in SERVER_WRITTEN_TYPES
    interactions = READ_INTERACTIONS + (WRITE_INTERACTIONS if writable else [])
    params = registry().params_for(resource_type)
    entry = {
        "type": resource_type,
        "interaction": [{"code": c} for c in interactions],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": writable,
        "conditionalCreate": writable,
        "conditionalRead": "not-supported",
        "conditionalUpdate": writable,
        "conditionalDelete": "single" if writable else "not-supported",
        **({"profile": f"{PROFILE_BASE}Dmp{resource_type}"} if resource_type in profiled_types() else {}),
    }
    # FHIR forbids empty arrays (ele-1): a type without reference or own parameters lists none
    includes = sorted(_includes(resource_type, params))
    own = [_search_param(p) for code, p in sorted(params.items()) if not code.startswith("_")]
    entry.update({k: v for k, v in (("searchInclude", includes), ("searchParam", own)) if v})
    operations = [{"name": d["code"], "definition": d["url"]} for d in all_definitions()
                  if d["resource"] == [resource_type]]
    entry["operation"] = operations + [{"name": "validate", "definition": VALIDATE}]
    return entry


def _artefact(resource_type: str) -> dict:
    """The published artefacts (services/conformance.py): read and search, public, no history."""
    return {
        "type": resource_type,
        "documentation": "The server's own published artefacts (capability/, profiles/): public, read-only.",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
        "searchParam": [{"name": code, "type": "token" if code in ("_id", "status") else
                         "uri" if code == "url" else "string"} for code in SEARCH_PARAMS],
    }


def _includes(resource_type: str, params: dict) -> list[str]:
    return [f"{resource_type}:{code}" for code, p in params.items() if p.type == "reference"]


def _common_params() -> list:
    params = registry().params_for("Patient")
    return [p for code, p in sorted(params.items()) if code.startswith("_")]


def _search_param(p) -> dict:
    out = {"name": p.code, "type": p.type}
    if getattr(p, "url", None):
        out["definition"] = p.url
    if getattr(p, "description", None):
        out["documentation"] = p.description
    return out
