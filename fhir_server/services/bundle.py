"""batch and transaction: https://hl7.org/fhir/R4/http.html#transaction

A transaction is all-or-nothing: its entries run inside one unit of work (a MongoDB transaction, or
the embedded store's lock with an undo log), in the order the spec sets (DELETE, POST, PUT/PATCH,
GET), after `urn:uuid:` full URLs and conditional references have been resolved.
"""

from __future__ import annotations

import base64
from dataclasses import replace as with_fields
from typing import Callable

import orjson

from ..errors import BadRequest, FhirError, PreconditionFailed
from ..search.bundle import with_entries
from .conditional import claim, claim_key, matches, parse_condition
from .context import Context, Interaction, Outcome
from .read import outcome_of
from .routing import parse_url
from .writing import instant, new_id

ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}
STATUS_TEXT = {200: "200 OK", 201: "201 Created", 204: "204 No Content"}
Dispatch = Callable[[Context, Interaction], Outcome]


def process_bundle(ctx: Context, it: Interaction, dispatch: Dispatch) -> Outcome:
    bundle = it.body
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BadRequest("POST to the base URL needs a Bundle", expression="resourceType")
    kind = bundle.get("type")
    if kind not in ("transaction", "batch"):
        raise BadRequest(f"Bundle.type must be 'transaction' or 'batch', not '{kind}'", expression="Bundle.type")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise BadRequest("Bundle.entry must be a list", expression="Bundle.entry")
    if kind == "batch":
        return _batch(ctx, entries, dispatch)
    return _transaction(ctx, entries, dispatch)


# -- transaction --------------------------------------------------------------------------------
def _transaction(ctx: Context, entries: list, dispatch: Dispatch) -> Outcome:
    interactions = [_entry_interaction(i, e) for i, e in enumerate(entries)]
    _refuse_duplicates(interactions)
    with ctx.store.unit_of_work() as uow:
        tx = with_fields(ctx, uow=uow)
        outcomes: dict[int, Outcome] = {}
        references = _assign_ids(tx, entries, interactions, outcomes)
        tx = with_fields(tx, pending=frozenset(references.values()))
        for i, it in enumerate(interactions):
            if it.body is not None and it.kind != "bundle":
                it.body = _rewrite(it.body, lambda ref: _resolve_reference(tx, ref, references, i))
        for i in sorted(range(len(interactions)), key=lambda n: ORDER.get(interactions[n].method, 9)):
            if i in outcomes:
                continue
            try:
                outcomes[i] = dispatch(tx, interactions[i])
            except FhirError as e:
                _name_entry(e, i, interactions[i])
                raise
    return Outcome(200, _response_bundle(ctx, "transaction-response", [outcomes[i] for i in range(len(entries))]))


def _assign_ids(ctx: Context, entries: list, interactions: list[Interaction], outcomes: dict) -> dict[str, str]:
    """fullUrl → Type/id for every entry that creates (or conditionally finds) a resource."""
    references: dict[str, str] = {}
    for i, (entry, it) in enumerate(zip(entries, interactions)):
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        try:
            target = _target_id(ctx, it, i, outcomes)
        except FhirError as e:
            _name_entry(e, i, it)
            raise
        if full_url and target:
            references[full_url] = f"{it.resource_type}/{target}"
    return references


def _target_id(ctx: Context, it: Interaction, i: int, outcomes: dict) -> str | None:
    if it.kind == "create":
        if it.if_none_exist is not None:
            condition = parse_condition(it.if_none_exist)
            found = matches(ctx, it.resource_type, condition)
            if len(found) > 1:
                raise PreconditionFailed(f"ifNoneExist matches more than one {it.resource_type}")
            if found:
                outcomes[i] = outcome_of(found[0], 200)
                return found[0].id
            it.assigned_id = new_id()
            claim(ctx, it.resource_type, claim_key(it.resource_type, condition), it.assigned_id)
            it.if_none_exist = None
        it.assigned_id = it.assigned_id or new_id()
        return it.assigned_id
    if it.kind == "update":
        return it.id or (it.body.get("id") if isinstance(it.body, dict) else None)
    return it.id


def _resolve_reference(ctx: Context, ref: str, references: dict[str, str], index: int) -> str:
    if ref in references:
        return references[ref]
    if ref.startswith("urn:uuid:") or ref.startswith("urn:oid:"):
        return ref  # a URN that names no entry is left as the client wrote it
    type_, sep, query = ref.partition("?")
    if sep and type_.isalpha():
        found = matches(ctx, type_, parse_condition(query))
        if len(found) != 1:
            raise PreconditionFailed(f"entry {index}: conditional reference '{ref}' matches {len(found)} "
                                     f"resources (exactly one needed)")
        return f"{type_}/{found[0].id}"
    return ref


def _rewrite(value, resolve: Callable[[str], str]):
    """Every `reference` and attachment `url` may point at another entry's fullUrl."""
    if isinstance(value, dict):
        return {k: (resolve(v) if k in ("reference", "url") and isinstance(v, str) and _is_local(v) else
                    _rewrite(v, resolve)) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, resolve) for v in value]
    return value


def _is_local(value: str) -> bool:
    return value.startswith("urn:uuid:") or ("?" in value and value.split("?", 1)[0].isalpha())


def _refuse_duplicates(interactions: list[Interaction]) -> None:
    seen: set[str] = set()
    for i, it in enumerate(interactions):
        if it.id and it.method in ("PUT", "DELETE", "PATCH"):
            key = f"{it.resource_type}/{it.id}"
            if key in seen:
                raise BadRequest(f"entry {i}: {key} is the target of more than one entry of the transaction")
            seen.add(key)


# -- batch --------------------------------------------------------------------------------------
def _batch(ctx: Context, entries: list, dispatch: Dispatch) -> Outcome:
    responses = []
    for i, entry in enumerate(entries):
        try:
            responses.append(dispatch(ctx, _entry_interaction(i, entry)))
        except FhirError as e:
            responses.append(Outcome(e.status, message=e.outcome()))
    return Outcome(200, _response_bundle(ctx, "batch-response", responses))


# -- entries ------------------------------------------------------------------------------------
def _entry_interaction(index: int, entry: object) -> Interaction:
    if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
        raise BadRequest(f"entry {index}: request (method and url) is required", expression=f"Bundle.entry[{index}].request")
    request = entry["request"]
    method, url = request.get("method"), request.get("url")
    if not isinstance(method, str) or not isinstance(url, str) or not url:
        raise BadRequest(f"entry {index}: request.method and request.url are required",
                         expression=f"Bundle.entry[{index}].request")
    try:
        it = parse_url(method, url)
    except FhirError as e:
        _name_entry(e, index, None)
        raise
    if it.kind == "bundle":
        raise BadRequest(f"entry {index}: nested batch or transaction Bundles are not supported")
    it.body = entry.get("resource")
    it.if_match = _optional_text(request, "ifMatch", index)
    it.if_none_exist = _optional_text(request, "ifNoneExist", index)
    if it.kind == "patch":
        _patch_body(it, index)
    return it


def _optional_text(request: dict, name: str, index: int) -> str | None:
    value = request.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"entry {index}: request.{name} must be a string",
                         expression=f"Bundle.entry[{index}].request.{name}")
    return value


def _patch_body(it: Interaction, index: int) -> None:
    """A JSON Patch travels in a Binary (FHIR R4 §3.1.0.11.4); a FHIRPath Patch as Parameters."""
    body = it.body
    if isinstance(body, dict) and body.get("resourceType") == "Binary":
        if body.get("contentType") != "application/json-patch+json":
            raise BadRequest(f"entry {index}: a Binary PATCH body must be application/json-patch+json")
        try:
            it.body = orjson.loads(base64.b64decode(body.get("data") or "", validate=True))
        except (ValueError, orjson.JSONDecodeError):
            raise BadRequest(f"entry {index}: the Binary does not hold a base64 JSON Patch") from None
        it.content_type = "application/json-patch+json"


def _name_entry(error: FhirError, index: int, it: Interaction | None) -> None:
    where = f"{it.method} {it.resource_type or ''}" if it else ""
    for issue in error.issues:
        if not issue.diagnostics.startswith("entry "):
            issue.diagnostics = f"entry {index} ({where.strip()}): {issue.diagnostics}" if where.strip() \
                else f"entry {index}: {issue.diagnostics}"


def _response_bundle(ctx: Context, kind: str, outcomes: list[Outcome]) -> dict:
    return with_entries({"resourceType": "Bundle", "type": kind}, [_response_entry(ctx, o) for o in outcomes])


def _response_entry(ctx: Context, out: Outcome) -> dict:
    response: dict = {"status": STATUS_TEXT.get(out.status, str(out.status))}
    location = out.location(ctx.base_url)
    if location and out.created:
        response["location"] = location
    if out.version is not None:
        response["etag"] = f'W/"{out.version}"'
    if out.last_modified is not None:
        response["lastModified"] = instant(out.last_modified)
    if out.message and (out.status >= 400 or ctx.prefer_return == "OperationOutcome"):
        response["outcome"] = out.message
    entry: dict = {}
    if out.resource is not None and (ctx.prefer_return == "representation" or out.status >= 400
                                     or out.resource.get("resourceType") == "Bundle"):
        entry["resource"] = out.resource
        if out.id:
            entry["fullUrl"] = f"{ctx.base_url}/{out.resource_type}/{out.id}"
    entry["response"] = response
    return entry
