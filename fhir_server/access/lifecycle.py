"""The record's lifecycle (DMP_RULES "Lifecycle"): opening six weeks after the holder is informed unless
they object, closing, reactivating, and the retention dates after which `dmp-fhir purge` deletes.

The state lives in the Patient's dmp-status extension (seed_data/README.md):
status ACTIF|FERME, openingDate, closureDate, closureReason, deletionRequested."""

from __future__ import annotations

from datetime import datetime

from ..errors import FhirError
from ..instants import parse_instant
from .acl import dmp_status
from .decisions import (DMP_ACTIVE, DMP_CLOSED, DMP_STATUS_URL, OPENING_DELAY, RETENTION_AFTER_CLOSURE,
                        RETENTION_AFTER_DELETION_REQUEST)


def with_opening_date(patient: dict, now: datetime, instant) -> dict:
    """A Patient created without a record status is a new ENS: its record opens after six weeks
    (opt-out, L1111-13-1); a client that migrates an existing record sends the status itself."""
    if any(e.get("url") == DMP_STATUS_URL for e in patient.get("extension") or []):
        return patient
    status = {"url": DMP_STATUS_URL, "extension": [{"url": "status", "valueCode": DMP_ACTIVE},
                                                   {"url": "openingDate", "valueDateTime": instant(now + OPENING_DELAY)}]}
    return {**patient, "extension": [*(patient.get("extension") or []), status]}


def opens_at(patient: dict) -> datetime | None:
    return _instant(dmp_status(patient).get("openingDate"))


def not_open_yet(patient: dict, now: datetime) -> bool:
    opening = opens_at(patient)
    return opening is not None and now < opening


def retention_end(patient: dict) -> datetime | None:
    """When a closed record's data is due for deletion: 3 months after a deletion request, else 10 years
    after closure (R1111-36); None while the record is open."""
    status = dmp_status(patient)
    if status["status"] != DMP_CLOSED:
        return None
    requested = _instant(status.get("deletionRequested"))
    if requested is not None:
        return requested + RETENTION_AFTER_DELETION_REQUEST
    closed = _instant(status.get("closureDate"))
    return closed + RETENTION_AFTER_CLOSURE if closed else None


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value, "dmp-status")
    except FhirError:
        return None
