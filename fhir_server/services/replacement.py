"""IHE MHD document relationships (ITI-65, https://profiles.ihe.net/ITI/MHD/ITI-65.html, "Replace, Transform,
Append"; DMP rule 13): a new DocumentReference whose `relatesTo.code = replaces` supersedes its target in the
same unit of work as its own creation.

The replaced document must be `current`, about the same patient, and the submitter must be one who may
withdraw it (the access policy's rule for a status change: its author, the holder for what they deposited,
a trusted system), else the whole submission is refused with a 4xx OperationOutcome. Superseding is the one
metadata change rule 13 allows (status). `transforms` and `appends` are recorded as sent once their target
is found: the target stays current.
"""

from __future__ import annotations

from ..errors import NotFound, Unprocessable
from ..storage.base import Stored
from .context import Context
from .read import checked_doc
from .writing import store_version


def supersede_replaced(ctx: Context, document: dict) -> None:
    """Check every relatesTo target of a new DocumentReference; mark the replaced ones superseded."""
    for index, relation in enumerate(document.get("relatesTo") or []):
        where = f"DocumentReference.relatesTo[{index}].target"
        target = _target(ctx, relation, where)
        if relation.get("code") != "replaces":
            continue
        _check_replaceable(target, document, where)
        superseded = {**target.resource, "status": "superseded"}
        store_version(ctx, "update", "DocumentReference", target.id, superseded, target.version, target)


def _target(ctx: Context, relation: dict, where: str) -> Stored:
    reference = ((relation.get("target") or {}).get("reference") or "").removeprefix(f"{ctx.base_url}/")
    kind, _, id = reference.partition("/")
    if kind != "DocumentReference" or not id or "/" in id:
        raise Unprocessable(f"relatesTo.target must reference a DocumentReference, not '{reference[:80]}'",
                            expression=where, code="invalid")
    try:
        doc = checked_doc(ctx, "DocumentReference", id)
    except NotFound:      # missing and hidden answer alike: the target's existence is itself sensitive
        raise Unprocessable(f"relatesTo.target {reference} not found", expression=where,
                            code="not-found") from None
    stored = Stored.from_doc("DocumentReference", doc)
    if stored.deleted:
        raise Unprocessable(f"relatesTo.target {reference} was deleted", expression=where, code="not-found")
    return stored


def _check_replaceable(target: Stored, document: dict, where: str) -> None:
    status = target.resource.get("status")
    if status != "current":
        raise Unprocessable(f"DocumentReference/{target.id} is {status}, not current: only a current document "
                            "is replaced", expression=where, code="business-rule")
    subject = (target.resource.get("subject") or {}).get("reference")
    if subject != (document.get("subject") or {}).get("reference"):
        raise Unprocessable(f"DocumentReference/{target.id} is about {subject}: a replacement is about the same "
                            "patient", expression=where, code="business-rule")
