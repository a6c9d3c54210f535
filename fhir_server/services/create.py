"""create: https://hl7.org/fhir/R4/http.html#create (and conditional create, #ccreate)"""

from __future__ import annotations

from .conditional import create_if_none_exist
from .context import Context, Interaction, Outcome
from .read import outcome_of
from .replacement import supersede_replaced
from ..access.lifecycle import with_opening_date
from .writing import checked_write, instant, new_id, store_version


def create(ctx: Context, it: Interaction) -> Outcome:
    body = checked_write(ctx, it.body, it.resource_type)
    if it.if_none_exist is not None:
        return create_if_none_exist(ctx, it.resource_type, body, it.if_none_exist, insert_new)
    # the server assigns the id; one sent by the client is ignored (as HAPI does)
    return insert_new(ctx, it.resource_type, it.assigned_id or new_id(), body)


def insert_new(ctx: Context, resource_type: str, id: str, body: dict) -> Outcome:
    if resource_type == "Patient":
        body = with_opening_date(body, ctx.now, instant)
    if resource_type == "DocumentReference":
        supersede_replaced(ctx, body)      # same unit of work as the create (IHE MHD replace)
    stored = store_version(ctx, "create", resource_type, id, body, None, None)
    return outcome_of(stored, 201, created=True)
