"""The `_acl` subdocument, computed once at write time: what the access policy filters on.

    patients       ids of the patients whose compartment holds the resource (Patient compartment definition)
    closed         Patient only: the record is closed (dmp-status FERME)
    opens          Patient only: when a record not yet open opens (emergency searches leave it out until then)
    labels         DocumentReference: its DMP visibility codes
    authors        DocumentReference: its author references (professionals and organisations)
    codes          DocumentReference: every system|code of its class and type (the access matrix matches them)
    hidden_since   DocumentReference with INVISIBLE_PATIENT: when the month started
    hidden_until   … and when it ends (at most one month; evaluated at query time, no job needed)
    revealed       DocumentReference: INVISIBLE_PATIENT was lifted once (it cannot be set again)
    deny           Consent: a block (provision deny naming an actor), shown to the holder side only
    context        Binary: the resource its securityContext names (it is read through that resource's rules)
    names          every resource but Patient: the professionals and establishments it names (rule 7: what
                   names the authors of a minor's secret is hidden from the legal representatives)
    targets        List, Provenance: what they point at; their `patients` are those of their targets
                   (services/writing.py), so they belong to the record of what they name
    docs           List, Provenance: the documents (and Binaries) they name; the reader who may not see one
                   of them does not see the List or Provenance either (guard.py, scope.py)
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources as package_files

import orjson

from ..instants import parse_instant
from ..errors import FhirError
from .matrix import document_codes
from .decisions import (DMP_CLOSED, DMP_STATUS_URL, HIDDEN_FROM_PATIENT_MAX, HIDDEN_UNTIL_URL, INVISIBLE_PATIENT,
                        INVISIBLE_REPRESENTANTS_LEGAUX, VISIBILITY_CODES, VISIBILITY_SYSTEM)


# the policy's filters, next to the search indexes of each collection
COMMON_ACL_INDEXES = [[("_acl.patients", 1), ("deleted", 1)]]
ACL_INDEXES = {
    "Patient": [[("_acl.closed", 1)], [("_acl.opens", 1)]],
    "Binary": [[("_acl.context", 1)]],
    "DocumentReference": [[("_acl.hidden_since", 1)]],
    "AuditEvent": [[("_acl.agent", 1)], [("_chain.key", 1), ("_chain.seq", -1)]],
}


@cache
def compartment_params() -> dict[str, tuple[str, ...]]:
    raw = package_files.files("fhir_server.definitions").joinpath("compartmentdefinition-patient.json").read_bytes()
    definition = orjson.loads(raw)
    return {r["code"]: tuple(r.get("param") or ()) for r in definition["resource"]}


ACTOR_PREFIXES = ("Practitioner/", "PractitionerRole/", "Organization/")
DOCUMENT_PREFIXES = ("DocumentReference/", "Binary/")
# resources outside the compartment that point at patient data: their record is their targets'
DERIVED_TYPES = ("List", "Provenance")


def compute_acl(resource_type: str, resource: dict, index: dict, previous: dict | None, now: datetime) -> dict:
    acl: dict = {"patients": compartment_patients(resource_type, resource, index)}
    if resource_type != "Patient":
        acl["names"] = sorted({r for r in references_in(resource) if r.startswith(ACTOR_PREFIXES)})
    if resource_type in DERIVED_TYPES:
        pointed = {r for r in references_in(resource) if not r.startswith(ACTOR_PREFIXES)}
        acl["targets"] = sorted(pointed)
        acl["docs"] = sorted(r for r in pointed if r.startswith(DOCUMENT_PREFIXES))
    if resource_type == "Patient":
        status = dmp_status(resource)
        acl["closed"] = status["status"] == DMP_CLOSED
        opens = _instant_or_none(status.get("openingDate"))
        if opens is not None:
            acl["opens"] = opens
    elif resource_type == "DocumentReference":
        acl.update(_document_acl(resource, previous, now))
    elif resource_type == "Consent":
        provision = resource.get("provision") or {}
        if provision.get("type") == "deny" and provision.get("actor"):
            acl["deny"] = True
    elif resource_type == "Communication" and _secret_labels(resource):
        acl["labels"] = _secret_labels(resource)     # a notice about a minor's secret (notifications.py)
    elif resource_type == "Binary":
        context = (resource.get("securityContext") or {}).get("reference")
        if isinstance(context, str):
            acl["context"] = context
    return acl


def references_in(value: object) -> list[str]:
    """Every literal reference anywhere in a resource."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() if isinstance(v, (dict, list)) for r in references_in(v)]
    if isinstance(value, list):
        return [r for v in value for r in references_in(v)]
    return []


def compartment_patients(resource_type: str, resource: dict, index: dict) -> list[str]:
    if resource_type == "Patient":
        return [resource["id"]]
    ids: set[str] = set()
    for param in compartment_params().get(resource_type, ()):
        for value in (index.get(param) or {}).get("r", []):
            if isinstance(value, str) and value.startswith("Patient/"):
                ids.add(value.split("/", 1)[1])
    return sorted(ids)


def visibility_labels(resource: dict) -> list[str]:
    labels = []
    for label in resource.get("securityLabel") or []:
        for coding in (label or {}).get("coding") or []:
            if coding.get("system") == VISIBILITY_SYSTEM and coding.get("code") in VISIBILITY_CODES:
                labels.append(coding["code"])
    return sorted(set(labels))


def _secret_labels(resource: dict) -> list[str]:
    return sorted({c.get("code") for c in (resource.get("meta") or {}).get("security") or []
                   if c.get("system") == VISIBILITY_SYSTEM and c.get("code") == INVISIBLE_REPRESENTANTS_LEGAUX})


def author_references(resource: dict) -> list[str]:
    return [a["reference"] for a in resource.get("author") or []
            if isinstance(a, dict) and isinstance(a.get("reference"), str)]


def dmp_status(patient: dict) -> dict:
    """{'status': 'ACTIF'|'FERME', 'closureDate': …, 'closureReason': …}; no extension means ACTIF."""
    out = {"status": "ACTIF"}
    for ext in patient.get("extension") or []:
        if ext.get("url") == DMP_STATUS_URL:
            for part in ext.get("extension") or []:
                value = next((v for k, v in part.items() if k.startswith("value")), None)
                out[part.get("url")] = value
    return out


def _document_acl(resource: dict, previous: dict | None, now: datetime) -> dict:
    """`previous`: the acl of the version replaced (None for a creation)."""
    labels = visibility_labels(resource)
    acl: dict = {"labels": labels, "authors": author_references(resource), "codes": document_codes(resource)}
    before = previous or {}
    if before.get("revealed") or (INVISIBLE_PATIENT in before.get("labels", []) and INVISIBLE_PATIENT not in labels):
        acl["revealed"] = True      # once shown to the holder, never hidden again (decisions.REHIDING_ALLOWED)
    if INVISIBLE_PATIENT in labels:
        before = previous or {}
        since = before.get("hidden_since") if INVISIBLE_PATIENT in before.get("labels", []) else None
        since = since or (_hidden_start(resource, now) if previous is None else now)
        until = since + HIDDEN_FROM_PATIENT_MAX
        explicit = _explicit_until(resource)
        acl["hidden_since"] = since
        acl["hidden_until"] = min(until, explicit) if explicit else until
    return acl


def _hidden_start(resource: dict, now: datetime) -> datetime:
    """decisions.py: a label set at creation runs from the document's date when that is in the past."""
    try:
        dated = parse_instant(resource["date"], "date") if resource.get("date") else None
    except FhirError:
        dated = None
    return dated if dated is not None and dated < now else now


def _instant_or_none(value: object) -> datetime | None:
    try:
        return parse_instant(value, "openingDate") if isinstance(value, str) else None
    except FhirError:
        return None


def _explicit_until(resource: dict) -> datetime | None:
    for ext in resource.get("extension") or []:
        if ext.get("url") == HIDDEN_UNTIL_URL and isinstance(ext.get("valueDateTime"), str):
            try:
                return parse_instant(ext["valueDateTime"], "until")
            except FhirError:
                return None
    return None
