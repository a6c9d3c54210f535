"""The one entry point for every interaction, from HTTP or from a Bundle entry.

Cross-cutting checks live here, once: the SMART scope of the interaction, the server-written types.
"""

from __future__ import annotations

from ..errors import Forbidden, MethodNotAllowed
from ..fhir_types import SERVER_WRITTEN_TYPES
from .bundle import process_bundle
from .context import Context, Interaction, Outcome
from .create import create
from .delete import delete
from .history import history
from .patch import patch
from .read import read, vread
from .search import search
from .update import update

WRITES = ("create", "update", "patch", "delete")
# interaction kind -> the SMART permission it needs
SCOPE_OF = {"read": "read", "vread": "read", "create": "create", "update": "update", "patch": "update",
            "delete": "delete", "history-instance": "history", "history-type": "history",
            "history-system": "history", "search-type": "search", "search-system": "search"}


def dispatch(ctx: Context, it: Interaction) -> Outcome:
    if it.kind == "bundle":
        return process_bundle(ctx, it, dispatch)
    _check(ctx, it)
    return HANDLERS[it.kind](ctx, it)


def _check(ctx: Context, it: Interaction) -> None:
    if it.kind in WRITES and it.resource_type in SERVER_WRITTEN_TYPES:
        raise MethodNotAllowed(f"{it.resource_type} is written by the server only: {it.kind} is not allowed")
    needed = SCOPE_OF.get(it.kind)
    if needed is None:
        raise MethodNotAllowed(f"the {it.kind} interaction is not supported here")
    resource_type = it.resource_type or "*"
    if not ctx.actor.may(needed, resource_type):
        raise Forbidden(f"the token's scopes do not allow {needed} on {resource_type}")


HANDLERS = {"read": read, "vread": vread, "create": create, "update": update, "patch": patch, "delete": delete,
            "history-instance": history, "history-type": history, "history-system": history,
            "search-type": search, "search-system": search}
