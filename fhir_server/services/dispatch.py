"""The one entry point for every interaction, from HTTP or from a Bundle entry.

Cross-cutting concerns live here, once: the SMART scope of the interaction, the server-written types,
the unit of work of a write, and the access trace of every interaction, allowed or refused.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import replace as with_fields

from ..errors import FhirError, Forbidden, InternalError, MethodNotAllowed, VersionRace
from ..fhir_types import SERVER_WRITTEN_TYPES
from ..limits import check_query_size
from . import tracing
from .bundle import process_bundle
from .context import Context, Interaction, Outcome
from .create import create
from .delete import delete
from .history import history
from .notifications import notify_emergency
from .operations import operation
from .patch import patch
from .read import read, vread
from .search import search
from .update import update

log = logging.getLogger("fhir_server")
WRITES = ("create", "update", "patch", "delete")
# a write without If-Match that loses the version race to a concurrent writer is redone, whole, on the
# new current version (last writer wins); each round has one winner, so N writers racing at once need up
# to N attempts; bounded, with a short random pause, so a hot resource answers 409 rather than spinning
RETRIED_ON_RACE = ("update", "patch", "delete")
RACE_ATTEMPTS = 10
RACE_PAUSE_SECONDS = 0.005
# interaction kind -> the SMART permission it needs
SCOPE_OF = {"read": "read", "vread": "read", "create": "create", "update": "update", "patch": "update",
            "delete": "delete", "history-instance": "history", "history-type": "history",
            "history-system": "history", "search-type": "search", "search-system": "search",
            "operation": "operation"}


def dispatch(ctx: Context, it: Interaction) -> Outcome:
    if it.kind == "bundle":
        return _bundle(ctx, it)
    trace = tracing.begin(ctx, it)
    ctx = with_fields(ctx, trace=trace)
    try:
        _check(ctx, it)
        if it.kind in WRITES or it.kind == "operation":
            out = _in_unit_of_work(ctx, it)
        else:
            out = HANDLERS[it.kind](ctx, it)
            tracing.write(ctx, trace)
        _notify_emergency(ctx, trace)
        return out
    except FhirError as error:
        _trace_failure(ctx, trace, error)
        raise
    except Exception as unexpected:  # noqa: BLE001 - a bug must still leave its trace (outcome 8)
        log.exception("unexpected error in %s %s/%s", it.kind, it.resource_type or "", it.id or "")
        error = InternalError(f"internal error (request {ctx.request_id})")
        _trace_failure(ctx, trace, error)
        raise error from unexpected


def _trace_failure(ctx: Context, trace, error: FhirError) -> None:
    tracing.failed(trace, error)
    if ctx.uow is not None:
        ctx.deferred.append(trace)     # the transaction rolls back: trace the refusal afterwards
    else:
        tracing.write(ctx, trace)


def _in_unit_of_work(ctx: Context, it: Interaction) -> Outcome:
    """A write and its trace land together (or neither does)."""
    if ctx.uow is not None:
        out = HANDLERS[it.kind](ctx, it)
        tracing.write(ctx, ctx.trace)
        return out
    attempts = RACE_ATTEMPTS if it.kind in RETRIED_ON_RACE and it.if_match is None else 1
    for attempt in range(1, attempts + 1):
        try:
            with ctx.store.unit_of_work() as uow:
                inner = with_fields(ctx, uow=uow)
                out = HANDLERS[it.kind](inner, it)
                tracing.write(inner, ctx.trace)
            return out
        except VersionRace:
            # the unit of work rolled back whole (its trace too): read, decide and write again
            if attempt == attempts:
                raise
            time.sleep(random.uniform(0, RACE_PAUSE_SECONDS * attempt))
    raise AssertionError("unreachable")


def _notify_emergency(ctx: Context, trace) -> None:
    if ctx.actor.access_mode == "normal" or ctx.actor.is_trusted_system:
        return
    for pid in trace.touched:
        if pid and ctx.policy.decide(pid).relationship == "emergency":
            notify_emergency(ctx, pid)


def _bundle(ctx: Context, it: Interaction) -> Outcome:
    ctx = with_fields(ctx, deferred=[])
    try:
        return process_bundle(ctx, it, dispatch)
    finally:
        for trace in ctx.deferred:
            tracing.write(with_fields(ctx, uow=None, trace=trace), trace)


def _check(ctx: Context, it: Interaction) -> None:
    limits = ctx.settings
    check_query_size(it.params, limits.max_param_repeats, limits.max_params, limits.max_param_values)
    if it.kind in WRITES and it.resource_type in SERVER_WRITTEN_TYPES:
        raise MethodNotAllowed(f"{it.resource_type} is written by the server only: {it.kind} is not allowed")
    needed = SCOPE_OF.get(it.kind)
    if needed is None:
        raise MethodNotAllowed(f"the {it.kind} interaction is not supported here")
    resource_type = it.resource_type or "*"
    if it.kind == "operation" and it.operation in OPERATION_SCOPES:
        needed, resource_type = OPERATION_SCOPES[it.operation]   # the scope of what the operation does
    if not ctx.actor.may(needed, resource_type):
        raise Forbidden(f"the token's scopes do not allow {needed} on {resource_type}")


# operation -> (SMART permission, type) of what it does (issue 10, class 5); others read their own type
OPERATION_SCOPES = {
    **{op: ("update", "DocumentReference") for op in ("mask", "unmask", "hide-from-patient", "reveal-to-patient",
                                                     "hide-from-representatives")},
    **{op: ("create", "Consent") for op in ("oppose", "oppose-emergency-access", "authorize")},
    "withdraw-opposition": ("update", "Consent"),
    **{op: ("update", "Patient") for op in ("close-dmp", "reactivate-dmp")},
    "everything": ("read", "Patient"),
}

HANDLERS = {"read": read, "vread": vread, "create": create, "update": update, "patch": patch, "delete": delete,
            "history-instance": history, "history-type": history, "history-system": history,
            "search-type": search, "search-system": search, "operation": operation}
