"""Conditional interactions, written once on top of search: https://hl7.org/fhir/R4/http.html#ccreate

Conditional create is race-free through a claim document whose `_id` is the canonical query: of two
concurrent creators only one can insert it (a unique key, never search-then-insert).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Callable
from urllib.parse import parse_qsl, urlencode

from ..errors import BadRequest, Conflict, PreconditionFailed
from ..search.engine import find_matches
from ..storage.base import Stored
from ..storage.mongo import now_ms
from .context import Context, Outcome
from .guard import search_filter
from .read import outcome_of
from .writing import new_id

CLAIMS = "conditional_claims"
CLAIM_ATTEMPTS = 50
# a claim whose resource never appeared (a standalone mongod creator died mid-way) may be taken over
STALE_CLAIM = timedelta(seconds=10)


def matches(ctx: Context, resource_type: str, params: list[tuple[str, str]]) -> list[Stored]:
    docs = find_matches(ctx.store, resource_type, params, limit=2, base_url=ctx.base_url,
                        extra_filter=search_filter(ctx))
    return [Stored.from_doc(resource_type, d) for d in docs]


def resolve_single(ctx: Context, resource_type: str, params: list[tuple[str, str]], kind: str) -> Stored | None:
    """None for no match, the match for one, 412 for several (https://hl7.org/fhir/R4/http.html#cond-update)."""
    found = matches(ctx, resource_type, _search_params(params))
    if len(found) > 1:
        raise PreconditionFailed(f"conditional {kind}: the criteria match more than one {resource_type}")
    return found[0] if found else None


def claim_key(resource_type: str, params: list[tuple[str, str]]) -> str:
    return f"{resource_type}?{urlencode(sorted(params))}"


def parse_condition(query: str) -> list[tuple[str, str]]:
    """`identifier=x|1` or `Patient?identifier=x|1` (both are seen in the wild)."""
    query = query.split("?", 1)[1] if "?" in query else query
    params = _search_params(parse_qsl(query.strip(), keep_blank_values=True))
    if not params:
        raise BadRequest("If-None-Exist needs search parameters, e.g. identifier=system|value")
    return params


def create_if_none_exist(ctx: Context, resource_type: str, body: dict, query: str,
                         insert_new: Callable[[Context, str, str, dict], Outcome]) -> Outcome:
    params = parse_condition(query)
    key = claim_key(resource_type, params)
    for _ in range(CLAIM_ATTEMPTS):
        found = matches(ctx, resource_type, params)
        if len(found) > 1:
            raise PreconditionFailed(f"If-None-Exist matches more than one {resource_type}")
        if found:
            return outcome_of(found[0], 200)
        id = new_id()
        try:
            # the claim and the resource land in the write's unit of work (dispatch): together or not at all
            claim(ctx, resource_type, key, id)
        except Conflict:
            if ctx.store.transactional:
                raise   # a MongoDB transaction that lost a write conflict cannot go on: the client retries
            time.sleep(0.01)  # another request holds the claim: its resource will show up in the search
            continue
        return insert_new(ctx, resource_type, id, body)
    raise Conflict(f"concurrent conditional creates of {resource_type} did not settle; retry")


def claim(ctx: Context, resource_type: str, key: str, id: str) -> None:
    doc = {"_id": key, "id": id, "at": now_ms()}
    try:
        ctx.store.insert(CLAIMS, doc, ctx.uow)
        return
    except Conflict:
        held = ctx.store.find_raw(CLAIMS, {"_id": key})
    if held is None or not _claim_is_stale(ctx, resource_type, key, held):
        raise Conflict(f"conditional create of {resource_type} already in progress")
    if not ctx.store.replace_raw(CLAIMS, {"_id": key, "id": held["id"]}, doc, ctx.uow):
        raise Conflict(f"conditional create of {resource_type} already in progress")


def _claim_is_stale(ctx: Context, resource_type: str, key: str, held: dict) -> bool:
    """The claimed resource was deleted or no longer matches, or it never appeared."""
    existing = ctx.store.read(resource_type, held["id"])
    if existing is None:
        return now_ms() - held["at"] > STALE_CLAIM
    params = parse_qsl(key.split("?", 1)[1], keep_blank_values=True)
    return not matches(ctx, resource_type, params + [("_id", held["id"])])


def _search_params(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in params if k != "_format"]
