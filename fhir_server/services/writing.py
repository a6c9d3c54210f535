"""Shared by every write: server-owned metadata, index values, the versioned store write."""

from __future__ import annotations

from datetime import datetime

from ..errors import BadRequest, Conflict, FhirError, PreconditionFailed
from ..ids import uuid4_text
from ..limits import whole_number
from ..access.acl import compute_acl
from ..fhir_types import SUPPORTED_TYPES
from ..search.index import extract_index
from ..storage.base import Stored, Write
from ..storage.mongo import now_ms
from ..validation.profiles import check_profile
from ..validation.structure import validate_resource
from .context import Context
from .guard import check_writable, note_intended

SERVER_META = ("versionId", "lastUpdated")


def instant(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return uuid4_text()


def checked_body(body: object, resource_type: str) -> dict:
    """Structure, types, unknown elements, required codes, then the project profile (400/422 with the
    element path)."""
    resource = validate_resource(body, resource_type)
    check_profile(resource)
    return resource


def checked_write(ctx: Context, body: object, resource_type: str, id: str | None = None) -> dict:
    """checked_body for a create or an update: a refused body is still traced in the records it was for."""
    try:
        return checked_body(body, resource_type)
    except FhirError:
        note_intended(ctx, resource_type, id, body)
        raise


def expected_version(if_match: str | None) -> int | None:
    """`W/"3"` or `"3"` or `3` → 3."""
    if if_match is None:
        return None
    text = if_match.strip()
    if text.startswith("W/"):
        text = text[2:]
    version = whole_number(text.strip('"'))
    if version is None:
        raise BadRequest(f"If-Match must be a version ETag such as W/\"1\", not '{if_match[:40]}'")
    return version


def check_if_match(if_match: str | None, current: Stored | None) -> None:
    wanted = expected_version(if_match)
    if wanted is None:
        return
    if current is None or current.deleted:
        raise PreconditionFailed(f"If-Match {if_match} given but the resource does not exist")
    if current.version != wanted:
        raise PreconditionFailed(f"version conflict: If-Match is {wanted} but the current version is {current.version}")


def same_content(a: dict, b: dict) -> bool:
    """Equal but for the server-owned meta fields: an update that changes nothing makes no version."""
    return _without_server_meta(a) == _without_server_meta(b)


def _without_server_meta(resource: dict) -> dict:
    out = dict(resource)
    meta = {k: v for k, v in (out.get("meta") or {}).items() if k not in SERVER_META}
    if meta:
        out["meta"] = meta
    else:
        out.pop("meta", None)
    return out


def store_version(ctx: Context, kind: str, resource_type: str, id: str, body: dict, previous: int | None,
                  current: Stored | None, *, deleted: bool = False, decided: bool = False) -> Stored:
    """Write version previous+1 once the access policy agreed; a concurrent writer that got there
    first makes this a 409. The caller got `current` through the policy (read.readable_current or
    guard.check_readable); `decided`: a custom operation already applied its own rule (operations.py)."""
    last_updated = now_ms()
    resource = dict(body)
    resource["id"] = id
    resource["meta"] = {**(body.get("meta") or {}), "versionId": str((previous or 0) + 1),
                        "lastUpdated": instant(last_updated)}
    live = current if current is not None and not current.deleted else None
    index = {} if deleted else extract_index(resource, base_url=ctx.base_url)
    acl = (live.acl or {}) if deleted else compute_acl(resource_type, resource, index,
                                                       live.acl if live else None, last_updated)
    if acl.get("targets"):
        acl["patients"] = sorted(set(acl["patients"]) | target_patients(ctx, acl["targets"]))
    if not decided:
        check_writable(ctx, kind, resource_type, live.resource if live else None, live.acl if live else None,
                       None if deleted else resource, None if deleted else acl)
    write = Write(resource_type, id, resource, index, acl, previous, deleted)
    stored = ctx.store.write(write, last_updated, ctx.uow)
    if resource_type == "DocumentReference" and not deleted:
        from .notifications import notify_new_document   # notifications writes through here: imported late
        notify_new_document(ctx, resource, acl, live.acl if live else None)
    return stored


def target_patients(ctx: Context, targets: list[str]) -> set[str]:
    """A List or Provenance belongs to the records of what it points at (a Provenance of a document has
    no Patient of its own, yet it tells of that patient's document)."""
    found: set[str] = set()
    for reference in targets:
        type_, _, id = reference.partition("/")
        if type_ == "Patient":
            found.add(id)
        elif type_ in SUPPORTED_TYPES and id:
            doc = ctx.store.read_doc(type_, id)
            found.update(((doc or {}).get("_acl") or {}).get("patients", []))
    return found


def tombstone(resource_type: str, id: str) -> dict:
    return {"resourceType": resource_type, "id": id}


def raise_conflict_as_412(conflict: Conflict, if_match: str | None) -> None:
    """A lost compare-and-set is a 412 for a client that sent If-Match, a 409 otherwise."""
    if if_match is not None:
        raise PreconditionFailed(conflict.diagnostics) from conflict
    raise conflict
