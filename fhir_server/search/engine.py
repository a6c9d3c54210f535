"""Step 3 of a search: run the compiled search against the store and build the searchset Bundle.

https://hl7.org/fhir/R4/search.html. The caller's `extra_filter` (the access policy's visibility filter:
a dict for every type, or a function type → dict) is ANDed into every query this module sends: the page,
the total, chained inner searches and includes, so results and totals never reveal hidden resources.
"""

from __future__ import annotations

import inspect
import time
from typing import Callable, Union
from urllib.parse import parse_qsl

from fhir_server.errors import BadRequest, Issue, TooCostly
from fhir_server.fhir_types import SUPPORTED_TYPES
from fhir_server.search import bundle, paging
from fhir_server.search.chain import MAX_INNER
from fhir_server.search.compile import CompiledSearch, compile_search, merge
from fhir_server.search.include import resolve_includes

ExtraFilter = Union[dict, Callable[[str], Union[dict, None]], None]
CHEAP_TOTAL = 10_000          # default `_total`: counted when below this, else left out


def _scope(extra_filter: ExtraFilter) -> Callable[[str, dict], dict]:
    def scope(resource_type: str, filter: dict) -> dict:
        extra = extra_filter(resource_type) if callable(extra_filter) else extra_filter
        clauses = [{"deleted": False}] + ([filter] if filter else []) + ([extra] if extra else [])
        return merge(clauses)
    return scope


def _resolver(store, base_url: str, scope):
    projecting = "projection" in inspect.signature(store.find).parameters

    def resolve(resource_type: str, params: list[tuple[str, str]], fields: list[str] | None = None) -> list[dict]:
        inner = compile_search(resource_type, params, base_url=base_url, resolve=resolve)
        extra = {"projection": {f: 1 for f in fields or ["_id"]}} if projecting else {}
        return store.find(resource_type, scope(resource_type, inner.filter), sort=[("_id", 1)],
                          limit=MAX_INNER + 1, **extra)
    return resolve


def _total(store, resource_type: str, filter: dict, mode: str | None, known: int | None) -> int | None:
    if mode == "none":
        return None
    if known is not None:
        return known
    if mode == "accurate":
        return store.count(resource_type, filter)
    n = store.count(resource_type, filter, limit=CHEAP_TOTAL)
    return n if n < CHEAP_TOTAL else None


def _page(store, c: CompiledSearch, scope) -> tuple[list[dict], bool, bool]:
    """One page of matches, and whether there are rows after it and before it."""
    forward = c.cursor is None or c.cursor.direction == 1
    sort = c.sort if forward else [(f, -d) for f, d in c.sort]
    docs = store.find(c.resource_type, scope(c.resource_type, c.page_filter), sort=sort, limit=c.count + 1)
    more = len(docs) > c.count
    docs = docs[:c.count]
    if forward:
        return docs, more, c.cursor is not None
    return docs[::-1], True, more


def run_search(store, resource_type: str | None, params: list[tuple[str, str]], *, base_url: str,
               extra_filter: ExtraFilter = None, lenient: bool = False,
               observe: Callable[[str, dict], None] | None = None, budget_ms: int | None = None) -> dict:
    """A FHIR searchset Bundle for `GET [base]/[type]?params` (or `[base]?params` when type is None).

    `observe(type, stored_doc)` is told of every resource returned (matches and includes), for the trace.
    `budget_ms`: the time all of the search's queries may take together (400 too-costly beyond)."""
    base_url = base_url.rstrip("/")
    scope = _scope(extra_filter)
    if budget_ms is not None:
        store = _Budgeted(store, budget_ms)
    if observe is not None:
        store = _Observed(store, observe)
    c = compile_search(resource_type, params, lenient=lenient, base_url=base_url,
                       resolve=_resolver(store, base_url, scope))
    if resource_type is None:
        return _system_search(store, c, params, base_url, scope)
    links = [("self", bundle.link(base_url, resource_type, params, None if c.cursor is None else
                                  dict(params).get("_page"), c.ignored))]
    if c.summary == "count" or c.count == 0:
        total = _total(store, resource_type, scope(resource_type, c.filter), "accurate", None)
        return bundle.searchset(_outcomes(c.warnings), total, links)
    docs, has_next, has_prev = _page(store, c, scope)
    if docs and has_next:
        token = paging.encode(paging.Cursor(paging.sort_values(docs[-1], c.sort), 1), c.fingerprint)
        links.append(("next", bundle.link(base_url, resource_type, params, token)))
    if docs and has_prev:
        token = paging.encode(paging.Cursor(paging.sort_values(docs[0], c.sort), -1), c.fingerprint)
        links.append(("previous", bundle.link(base_url, resource_type, params, token)))
    known = len(docs) if c.cursor is None and not has_next else None
    total = _total(store, resource_type, scope(resource_type, c.filter), c.total, known)
    entries = _entries(store, c, [(resource_type, d) for d in docs], base_url, scope)
    return bundle.searchset(entries, total, links)


class _Budgeted:
    """The store under a search's time budget. Each query is given what remains of it (MongoDB's maxTimeMS
    stops a scan on the server), and once it is spent the search is refused, HAPI-like, with too-costly;
    the embedded store cannot stop a query midway, so there the check falls between queries."""

    def __init__(self, store, budget_ms: int):
        self._store, self._budget_ms = store, budget_ms
        self._deadline = time.monotonic() + budget_ms / 1000

    def __getattr__(self, name):
        return getattr(self._store, name)

    def _remaining_ms(self) -> int:
        left = int((self._deadline - time.monotonic()) * 1000)
        if left <= 0:
            raise TooCostly(f"the search takes more than {self._budget_ms} ms (DMP_FHIR_SEARCH_TIME_BUDGET_MS): "
                            "narrow its criteria")
        return left

    def find(self, resource_type: str, filter: dict, *, sort: list[tuple[str, int]] | None = None,
             limit: int = 0, skip: int = 0, projection: dict | None = None) -> list[dict]:
        rows = self._store.find(resource_type, filter, sort=sort, limit=limit, skip=skip, projection=projection,
                                max_time_ms=self._remaining_ms())
        self._remaining_ms()
        return rows

    def count(self, resource_type: str, filter: dict, limit: int = 0) -> int:
        n = self._store.count(resource_type, filter, limit, max_time_ms=self._remaining_ms())
        self._remaining_ms()
        return n


class _Observed:
    """The store as seen by a traced search: `returned` reports what leaves the server."""

    def __init__(self, store, observe: Callable[[str, dict], None]):
        self._store, self.observe = store, observe

    def __getattr__(self, name):
        return getattr(self._store, name)

    def returned(self, rows: list[tuple[str, dict]]) -> None:
        for resource_type, doc in rows:
            self.observe(resource_type, doc)


def _entries(store, c: CompiledSearch, rows: list[tuple[str, dict]], base_url: str, scope) -> list[dict]:
    issues = list(c.warnings)
    included, capped = resolve_includes(store, scope, rows, c.includes + c.revincludes)
    if isinstance(store, _Observed):
        store.returned(rows + included)
    if capped:
        issues.append(Issue("Too many resources to include: the included resources were cut at the limit",
                            "too-costly", "warning", ["_include"]))
    out = [bundle.entry(base_url, bundle.subset(d["res"], c.summary, c.elements), "match") for _, d in rows]
    out += [bundle.entry(base_url, bundle.subset(d["res"], c.summary, c.elements), "include") for _, d in included]
    return out + _outcomes(issues)


def _outcomes(issues: list[Issue]) -> list[dict]:
    return [bundle.outcome_entry(issues)] if issues else []


def _system_search(store, c: CompiledSearch, params, base_url: str, scope) -> dict:
    """`GET [base]?_id=…` / `_lastUpdated=…`: every type in turn (or `_type`), ordered by (type, id)."""
    types = [t for t in SUPPORTED_TYPES if c.types is None or t in c.types]
    start, after = (c.cursor.anchor if c.cursor else (0, None))
    if c.cursor is not None and c.cursor.direction != 1:
        raise BadRequest("Invalid _page token", expression="_page")
    rows: list[tuple[str, dict]] = []
    for i, rtype in enumerate(types):
        if i < start or len(rows) > c.count or c.summary == "count" or c.count == 0:
            continue
        filter = merge([c.filter, {"_id": {"$gt": after}}]) if (i == start and after is not None) else c.filter
        docs = store.find(rtype, scope(rtype, filter), sort=[("_id", 1)], limit=c.count + 1 - len(rows))
        rows += [(rtype, d) for d in docs]
    links = [("self", bundle.link(base_url, None, params, dict(params).get("_page"), c.ignored))]
    if len(rows) > c.count:
        rows = rows[:c.count]
        last_type, last = rows[-1]
        token = paging.encode(paging.Cursor((types.index(last_type), last["_id"]), 1), c.fingerprint)
        links.append(("next", bundle.link(base_url, None, params, token)))
    total = None
    if c.total != "none":
        counts = [store.count(t, scope(t, c.filter), limit=0 if c.total == "accurate" else CHEAP_TOTAL)
                  for t in types]
        total = sum(counts) if c.total == "accurate" or all(n < CHEAP_TOTAL for n in counts) else None
    if c.summary == "count" or c.count == 0:
        return bundle.searchset(_outcomes(c.warnings), total, links)
    return bundle.searchset(_entries(store, c, rows, base_url, scope), total, links)


def find_matches(store, resource_type: str, query: str | list[tuple[str, str]], limit: int = 2, *,
                 base_url: str | None = None, extra_filter: ExtraFilter = None) -> list[dict]:
    """Current, non-deleted stored documents matching a conditional create/update/delete's criteria."""
    params = parse_qsl(query.lstrip("?"), keep_blank_values=True) if isinstance(query, str) else list(query)
    params = [(k, v) for k, v in params if k not in ("_format", "_pretty")]
    if not [k for k, v in params if not k.startswith("_") or k in ("_id", "_lastUpdated", "_tag", "_profile",
                                                                     "_security", "_has")]:
        raise BadRequest("A conditional request needs search criteria", code="invalid")
    scope = _scope(extra_filter)
    c = compile_search(resource_type, params, base_url=base_url, resolve=_resolver(store, base_url or "", scope))
    return store.find(resource_type, scope(resource_type, c.filter), sort=[("_id", 1)], limit=limit)
