"""`dmp-fhir purge`: delete the records whose retention has ended (R1111-36), physically and traced.

A closed record's data is kept 10 years after closure, 3 months after an express deletion request
(access/lifecycle.py). The access traces stay: they prove what happened, and the purge adds its own."""

from __future__ import annotations

from datetime import datetime

from ..access.acl import compartment_params
from ..access.lifecycle import retention_end
from ..audit.balp import Trace
from ..auth.actor import Actor, Scope
from ..storage.mongo import MongoStore
from . import tracing
from .context import Context

PURGE_ACTOR = Actor(reference="Device/dmp-fhir-purge", scopes=(Scope("system", "*", "cruds"),))
KEPT = frozenset({"AuditEvent"})


def due_records(store: MongoStore, now: datetime) -> list[str]:
    closed = store.find("Patient", {"_acl.closed": True, "deleted": False})
    return [d["_id"] for d in closed if (end := retention_end(d["res"])) is not None and end <= now]


def purge(store: MongoStore, settings, audit, now: datetime) -> dict[str, int]:
    """patient id -> number of resources deleted."""
    purged = {}
    for patient_id in due_records(store, now):
        with store.unit_of_work() as uow:
            count = sum(store.purge(t, {"_acl.patients": patient_id}, uow)
                        for t, params in compartment_params().items() if params and t not in KEPT)
            count += store.purge("Patient", {"_id": patient_id}, uow)
            ctx = Context(store=store, settings=settings, actor=PURGE_ACTOR, base_url=settings.public_base(),
                          audit=audit, uow=uow, now=now)
            trace = Trace(kind="delete", resource_type="Patient",
                          outcome_text=f"retention ended: {count} resources of the record deleted")
            trace.touch([patient_id], f"Patient/{patient_id}")
            tracing.write(ctx, trace)
        purged[patient_id] = count
    return purged
