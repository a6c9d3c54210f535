"""The custom operations of CONTRACT.md, each published as an OperationDefinition in capability/.

Label operations change the document through the ordinary write path, so the one access policy
(labels.py, writes.py) decides for them exactly as it does for PATCH and update.
"""

from __future__ import annotations

import copy

from ..access.decisions import (HIDDEN_FROM_PATIENT_MAX, HIDDEN_UNTIL_URL, INVISIBLE_PATIENT,
                                INVISIBLE_REPRESENTANTS_LEGAUX, MASKED_AT_REQUEST_URL, MASQUE_PS, VISIBILITY_SYSTEM)
from ..errors import BadRequest, MethodNotAllowed, NotFound
from ..instants import parse_instant
from .context import Context, Interaction, Outcome
from .access_operations import ACCESS_OPERATIONS
from .everything import everything
from .parameters import parameters
from .read import outcome_of, readable_current
from .record_operations import RECORD_OPERATIONS
from .validate import VALIDATE_OPERATIONS
from .writing import instant, store_version


def operation(ctx: Context, it: Interaction) -> Outcome:
    key = (it.resource_type, it.operation, it.id is not None)
    handler = OPERATIONS.get(key)
    if handler is None:
        raise NotFound(f"unknown operation ${it.operation} on {it.resource_type or 'the system'}"
                       f"{' instance' if it.id else ''}", code="not-supported")
    if it.method == "GET" and it.operation not in READ_ONLY:
        raise MethodNotAllowed(f"${it.operation} changes the record: use POST")
    return handler(ctx, it)


def hide_from_patient(ctx: Context, it: Interaction) -> Outcome:
    until = parameters(it).get("until")
    limit = ctx.now + HIDDEN_FROM_PATIENT_MAX
    end = parse_instant(until, "until") if isinstance(until, str) else limit
    if end > limit or end <= ctx.now:
        raise BadRequest(f"until must be in the future and at most one month ahead ({instant(limit)})",
                         expression="until")
    extension = {"url": HIDDEN_UNTIL_URL, "valueDateTime": instant(end)}
    return _relabel(ctx, it, add=INVISIBLE_PATIENT, extension=extension)


def reveal_to_patient(ctx: Context, it: Interaction) -> Outcome:
    return _relabel(ctx, it, remove=INVISIBLE_PATIENT, extension=None)


def mask(ctx: Context, it: Interaction) -> Outcome:
    """The holder side masks; a professional masks at the holder's request, recorded on the label (decisions.py)."""
    requested_by = parameters(it).get("requestedBy")
    if requested_by is None:
        return _relabel(ctx, it, add=MASQUE_PS)
    if not isinstance(requested_by, str) or not requested_by.startswith("Patient/"):
        raise BadRequest("requestedBy must reference the holder (Patient)", expression="requestedBy")
    request = {"url": MASKED_AT_REQUEST_URL, "extension": [
        {"url": "requestedBy", "valueReference": {"reference": requested_by}},
        {"url": "recordedBy", "valueReference": {"reference": ctx.actor.reference}},
        {"url": "date", "valueDateTime": instant(ctx.now)}]}
    return _relabel(ctx, it, add=MASQUE_PS, label_extension=request)


def unmask(ctx: Context, it: Interaction) -> Outcome:
    return _relabel(ctx, it, remove=MASQUE_PS)


def hide_from_representatives(ctx: Context, it: Interaction) -> Outcome:
    return _relabel(ctx, it, add=INVISIBLE_REPRESENTANTS_LEGAUX)


_KEEP = object()


def _relabel(ctx: Context, it: Interaction, add: str | None = None, remove: str | None = None,
             extension: dict | None | object = _KEEP, label_extension: dict | None = None) -> Outcome:
    current = readable_current(ctx, "DocumentReference", it.id)
    document = copy.deepcopy(current.resource)
    labels = [l for l in document.get("securityLabel") or [] if not _is_visibility(l, remove)]
    if add and not any(_is_visibility(l, add) for l in labels):
        label = {"coding": [{"system": VISIBILITY_SYSTEM, "code": add}]}
        labels.append({**label, "extension": [label_extension]} if label_extension else label)
    document["securityLabel"] = labels
    if extension is not _KEEP:
        others = [e for e in document.get("extension") or [] if e.get("url") != HIDDEN_UNTIL_URL]
        document["extension"] = others + ([extension] if extension else [])
        if not document["extension"]:
            del document["extension"]
    if not labels:
        del document["securityLabel"]
    if document == current.resource:
        return outcome_of(current)      # nothing to change: no new version (issue 10)
    stored = store_version(ctx, "update", "DocumentReference", it.id, document, current.version, current)
    return outcome_of(stored)


def _is_visibility(label: dict, code: str | None) -> bool:
    return code is not None and any(c.get("system") == VISIBILITY_SYSTEM and c.get("code") == code
                                    for c in (label or {}).get("coding") or [])


OPERATIONS = {
    ("DocumentReference", "hide-from-patient", True): hide_from_patient,
    ("DocumentReference", "reveal-to-patient", True): reveal_to_patient,
    ("DocumentReference", "mask", True): mask,
    ("DocumentReference", "unmask", True): unmask,
    ("DocumentReference", "hide-from-representatives", True): hide_from_representatives,
    ("Patient", "everything", True): everything,
    **{("Patient", name, True): handler for name, handler in RECORD_OPERATIONS.items()},
    **VALIDATE_OPERATIONS,
    **ACCESS_OPERATIONS,
}
# operations that change nothing: GET allowed (FHIR operations framework)
READ_ONLY = {"everything"} | {name for _, name, _ in ACCESS_OPERATIONS}
