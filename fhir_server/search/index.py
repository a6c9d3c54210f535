"""Index values extracted once per write: the `_idx` subdocument stored beside the resource.

`_idx` has one key per search parameter of the resource's type that has a value (parameters with no value
are absent, which is what `:missing=true` finds). `_id` is the document key and is not repeated.
`_lastUpdated`, `_tag`, `_profile`, `_security` and `_source` come from `meta` like any other parameter.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import orjson

from fhir_server.search.expressions import _CHOICES
from fhir_server.search.registry import Indexer, registry


def extract_index(resource: dict, *, base_url: str | None = None, memo: "IndexMemo | None" = None) -> dict:
    """The `_idx` subdocument for `resource` (a dict as stored, with id and meta set). With `memo`, values are
    shared with earlier calls: the caller stores them (the store copies or encodes) and never changes them."""
    idx: dict = {}
    for indexer in registry().indexers(resource.get("resourceType", "")):
        if base_url is not None:
            indexer = replace(indexer, context=replace(indexer.context, base_url=base_url))
        value = indexer.extract(resource) if memo is None else memo.extract(indexer, resource)
        if value is not None:
            idx[indexer.param.code] = value
    return idx


_UNKNOWN = object()


class IndexMemo:
    """Index values remembered by the top-level elements they are computed from.

    A parameter whose expression is plain paths (no FHIRPath fallback, no choice element first) depends only on
    the top-level elements its paths start from, so the same elements give the same value. The audit trail
    writes one AuditEvent per request whose source, type, action, outcome and agents repeat from one request to
    the next: most of its two dozen parameters are found here instead of being evaluated again."""

    MAX_ENTRIES = 20_000        # then it starts afresh: a bound, not a cache policy

    def __init__(self):
        self._values: dict[tuple, dict | None] = {}
        self._roots: dict[tuple[str, str], tuple[str, ...] | None] = {}
        self._lock = threading.Lock()

    def extract(self, indexer: Indexer, resource: dict) -> dict | None:
        resource_type = resource.get("resourceType", "")
        roots = self._roots_of(indexer, resource_type)
        if roots is None:
            return indexer.extract(resource)
        key = (resource_type, indexer.param.code, indexer.context.base_url,
               orjson.dumps([resource.get(r) for r in roots], option=orjson.OPT_SORT_KEYS))
        value = self._values.get(key, _UNKNOWN)     # one lookup: another thread may start afresh meanwhile
        if value is not _UNKNOWN:
            return value
        value = indexer.extract(resource)
        with self._lock:
            if len(self._values) >= self.MAX_ENTRIES:
                self._values.clear()
            self._values[key] = value
        return value

    def _roots_of(self, indexer: Indexer, resource_type: str) -> tuple[str, ...] | None:
        slot = (resource_type, indexer.param.code)      # one indexer per type and code (registry)
        if slot not in self._roots:
            self._roots[slot] = _roots(indexer)
        return self._roots[slot]


def _roots(indexer: Indexer) -> tuple[str, ...] | None:
    """The top-level elements the parameter's value depends on, or None when that cannot be told."""
    expression = indexer.expression
    if expression.fallback or indexer.context.components or not expression.simple:
        return None
    firsts = set()
    for _, steps in expression.simple:
        if not steps or steps[0].kind != "child" or steps[0].a in _CHOICES:
            return None
        firsts.add(steps[0].a)
    return tuple(sorted(firsts))
