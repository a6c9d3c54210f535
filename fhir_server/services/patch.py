"""patch with JSON Patch or FHIRPath Patch: https://hl7.org/fhir/R4/http.html#patch"""

from __future__ import annotations

from ..errors import BadRequest, Conflict
from .conditional import resolve_single
from .context import Context, Interaction, Outcome
from .patch_formats import PatchLimits, apply_fhirpath_patch, apply_json_patch
from .read import outcome_of, readable_current
from .writing import check_if_match, checked_body, raise_conflict_as_412, same_content, store_version

JSON_PATCH = "application/json-patch+json"


def patch(ctx: Context, it: Interaction) -> Outcome:
    id = it.id
    if id is None:
        match = resolve_single(ctx, it.resource_type, it.params, "patch")
        if match is None:
            raise BadRequest(f"conditional patch: no {it.resource_type} matched")
        id = match.id
    current = readable_current(ctx, it.resource_type, id)
    check_if_match(it.if_match, current)
    patched = checked_body(_apply(ctx, it, current.resource), it.resource_type)
    if same_content(current.resource, patched):
        return outcome_of(current)
    try:
        return outcome_of(store_version(ctx, "patch", it.resource_type, id, patched, current.version, current))
    except Conflict as conflict:
        # without If-Match the patch is re-applied to the new current version (services/dispatch.py retries)
        raise_conflict_as_412(conflict, it.if_match)


def _apply(ctx: Context, it: Interaction, resource: dict) -> dict:
    limits = PatchLimits(ctx.settings.patch_max_operations, ctx.settings.patch_max_result_bytes)
    if it.content_type == JSON_PATCH:
        return apply_json_patch(resource, it.body, limits)
    if isinstance(it.body, dict) and it.body.get("resourceType") == "Parameters":
        return apply_fhirpath_patch(resource, it.body, limits)
    raise BadRequest(f"PATCH needs {JSON_PATCH} or a FHIRPath Patch Parameters resource "
                     f"(got {it.content_type})")
