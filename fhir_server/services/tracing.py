"""One AuditEvent per patient touched by an interaction, written before the response leaves (IHE BALP).

A write's traces land in the write's unit of work, so a write is never stored untraced; a trace that
cannot be written fails the request with 503 and no data is returned. A read's traces are stored in a unit of
their own, or, when the caller collects them (Context.collected), by the caller with other requests' traces
(write_together), still before the response leaves."""

from __future__ import annotations

from dataclasses import replace as with_fields
from urllib.parse import urlencode

from ..audit.balp import SUCCESS, Trace, audit_event
from ..errors import FhirError, Forbidden, Hidden
from .context import Context, Interaction
from .writing import instant


def begin(ctx: Context, it: Interaction) -> Trace:
    query = None
    if it.kind.startswith("search") or it.kind in ("history-type", "history-system"):
        query = f"{it.resource_type or ''}?{urlencode(it.params)}"
    return Trace(kind=it.kind, resource_type=it.resource_type, query=query, operation=it.operation)


def failed(trace: Trace, error: FhirError) -> None:
    trace.refused = isinstance(error, (Forbidden, Hidden))
    trace.hidden = isinstance(error, Hidden)
    trace.outcome = "4" if error.status < 500 else "8"
    trace.outcome_text = f"{error.status}: {error.diagnostics}"


def write(ctx: Context, trace: Trace) -> None:
    """The record's traces say what happened; when the actor was answered "not found" for a resource
    hidden from them, their own view of their actions is the trace of that answer (the one an absent id
    leaves), so that reading one's own traces cannot tell a hidden resource from an absent one."""
    if ctx.audit is None:
        return
    if ctx.uow is not None:
        _append_all(ctx, trace, ctx.uow)
    elif ctx.collected is not None:
        ctx.collected.append((ctx, trace))
    else:                   # a read: its traces get a unit of their own, all stored in one insert or none
        write_together(ctx.store, [(ctx, trace)])


def write_together(store, collected: list[tuple[Context, Trace]]) -> None:
    """Traces collected from reads (Context.collected), of one request or of several, in one unit of work: all
    stored, or none (the unit rolls back whole)."""
    with store.unit_of_work() as uow:
        for ctx, trace in collected:
            _append_all(ctx, trace, uow)


def write_collected(store, collected: list[tuple[Context, Trace]]) -> None:
    """One request's collected traces; when they cannot be stored, the request fails as dispatch fails it when
    its trace cannot be written inline: the trace of that failure is tried, then the failure raised. A trace of a
    failure already (a refusal, a hidden resource's "not found") is not tried again as a trace of this one, as
    inline: rewritten, a hidden resource's trace would name in the actor's view what its absence does not."""
    try:
        write_together(store, collected)
    except FhirError as error:
        answered = [(ctx, trace) for ctx, trace in collected if trace.outcome == SUCCESS]
        for _, trace in answered:
            failed(trace, error)
        if answered:
            write_together(store, answered)
        raise


def _append_all(ctx: Context, trace: Trace, uow) -> None:
    for pid in list(trace.touched) or [""]:
        _append(ctx, trace, pid, uow, agent_view=not trace.hidden)
    if trace.hidden:
        _append(ctx, with_fields(trace, touched={}, refused=False, hidden=False), "", uow, agent_view=True)


def _append(ctx: Context, trace: Trace, pid: str, uow, *, agent_view: bool) -> None:
    event = audit_event(trace, ctx.actor, pid, trace.touched.get(pid, []), ctx.now, ctx.request_id,
                        instant(ctx.now))
    acl = {"patients": [pid] if pid else [], "agent": ctx.actor.reference, "docs": trace.documents(pid)}
    if ctx.actor.organization:
        acl["org"] = ctx.actor.organization     # the establishment the trace names (rule 7: audit_scope)
    if not agent_view:
        acl["agent_hidden"] = True
    ctx.audit.append(event, acl, ctx.now, uow)
