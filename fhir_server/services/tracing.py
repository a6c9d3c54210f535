"""One AuditEvent per patient touched by an interaction, written before the response leaves (IHE BALP).

A write's traces land in the write's unit of work, so a write is never stored untraced; a trace that
cannot be written fails the request with 503 and no data is returned."""

from __future__ import annotations

from dataclasses import replace as with_fields
from urllib.parse import urlencode

from ..audit.balp import Trace, audit_event
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
    if ctx.uow is None:     # a read: its traces get a unit of their own, all stored in one insert or none
        with ctx.store.unit_of_work() as uow:
            _append_all(ctx, trace, uow)
    else:
        _append_all(ctx, trace, ctx.uow)


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
