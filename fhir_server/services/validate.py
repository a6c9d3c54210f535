"""$validate at type and instance level: https://hl7.org/fhir/R4/resource-operation-validate.html

Every issue is reported in one OperationOutcome (200): structure, required codes, the project profile,
and for mode=delete whether the access policy would let the caller delete the resource."""

from __future__ import annotations

from ..errors import BadRequest, FhirError, Issue, NotFound, operation_outcome
from ..fhir_types import SUPPORTED_TYPES
from ..validation.profiles import profile_issues, profiled_types
from ..validation.structure import validate_resource
from .context import Context, Interaction, Outcome
from . import tracing
from .guard import check_readable, check_writable, not_found

PROFILE_BASE = "https://dmp-fhir-server.example/fhir/StructureDefinition/"
CORE_BASE = "http://hl7.org/fhir/StructureDefinition/"
MODES = ("create", "update", "delete")


def validate(ctx: Context, it: Interaction) -> Outcome:
    resource, mode, profile = _arguments(it)
    _check_profile_name(it.resource_type, profile)
    if mode == "delete":
        issues = _delete_issues(ctx, it)
    else:
        issues = _resource_issues(it, resource, mode)
    if not issues:
        issues = [Issue("no issues found", "informational", "information")]
    return Outcome(200, operation_outcome(issues))


def _arguments(it: Interaction) -> tuple[object, str, str | None]:
    body = it.body
    params = dict(it.params)
    resource = body
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        resource = None
        for p in body.get("parameter") or []:
            if not isinstance(p, dict):
                continue
            if p.get("name") == "resource":
                resource = p.get("resource")
            elif p.get("name") in ("mode", "profile"):
                params[p["name"]] = next((v for k, v in p.items() if k.startswith("value")), None)
    mode = params.get("mode") or ("update" if it.id else "create")
    if mode not in MODES:
        raise BadRequest(f"mode must be one of {', '.join(MODES)}", expression="mode")
    if mode != "delete" and resource is None:
        raise BadRequest("$validate needs the resource (the body, or a 'resource' parameter)", expression="resource")
    return resource, mode, params.get("profile")


def _check_profile_name(resource_type: str, profile: str | None) -> None:
    known = {CORE_BASE + resource_type}
    if resource_type in profiled_types():
        known.add(f"{PROFILE_BASE}Dmp{resource_type}")
    if profile is not None and profile not in known:
        raise BadRequest(f"unknown profile '{profile}' for {resource_type} (known: {', '.join(sorted(known))})",
                         expression="profile")


def _resource_issues(it: Interaction, resource: object, mode: str) -> list[Issue]:
    try:
        validate_resource(resource, it.resource_type)
    except FhirError as e:
        return e.issues
    issues = profile_issues(resource)
    if mode == "update" and it.id and resource.get("id") != it.id:
        issues.append(Issue(f"the resource id must be '{it.id}' for an update", "invalid", "error",
                            [f"{it.resource_type}.id"]))
    return issues


def _delete_issues(ctx: Context, it: Interaction) -> list[Issue]:
    if not it.id:
        raise BadRequest("mode=delete validates an existing resource: POST [type]/[id]/$validate")
    doc = ctx.store.read_doc(it.resource_type, it.id)
    if doc is None or doc.get("deleted"):
        raise NotFound(not_found(it.resource_type, it.id))
    check_readable(ctx, it.resource_type, doc)    # a hidden resource answers 404 like an absent one
    try:
        check_writable(ctx, "delete", it.resource_type, doc["res"], doc.get("_acl"), None, None)
    except FhirError as e:
        tracing.failed(ctx.trace, e)     # the answer is a report, the trace says the delete was refused
        return [Issue(f"the delete would be refused: {e.diagnostics}", e.code, "error")]
    return []


VALIDATE_OPERATIONS = {(t, "validate", instance): validate for t in SUPPORTED_TYPES for instance in (False, True)}
