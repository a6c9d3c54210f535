"""Index values extracted once per write: the `_idx` subdocument stored beside the resource.

`_idx` has one key per search parameter of the resource's type that has a value (parameters with no value
are absent, which is what `:missing=true` finds). `_id` is the document key and is not repeated.
`_lastUpdated`, `_tag`, `_profile`, `_security` and `_source` come from `meta` like any other parameter.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import orjson

from fhir_server.search.expressions import _CHOICES, _walk
from fhir_server.search.registry import Indexer, registry


def extract_index(resource: dict, *, base_url: str | None = None, memo: "IndexMemo | None" = None) -> dict:
    """The `_idx` subdocument for `resource` (a dict as stored, with id and meta set). With `memo`, values are
    shared with earlier calls: the caller stores them (the store copies or encodes) and never changes them."""
    idx: dict = {}
    anchor_keys: dict = {}          # one encoding per anchor for this resource, shared by its parameters
    for indexer in registry().indexers(resource.get("resourceType", "")):
        if base_url is not None:
            indexer = replace(indexer, context=replace(indexer.context, base_url=base_url))
        value = indexer.extract(resource) if memo is None else memo.extract(indexer, resource, anchor_keys)
        if value is not None:
            idx[indexer.param.code] = value
    return idx


_UNKNOWN = object()


class IndexMemo:
    """Index values remembered by the elements they are computed from.

    A parameter whose expression is plain paths (no FHIRPath fallback, no choice element in its first two steps)
    depends only on the values found two steps down its paths (its anchors: `meta.profile`, `agent.who`, or
    the top-level element of a one-step path): the same values give the same index value. The audit trail
    writes one AuditEvent per request whose source, type, action, outcome, agents and entity kinds repeat from
    one request to the next: most of its two dozen parameters are found here instead of being evaluated again;
    only what depends on the instant and the request id (`_lastUpdated`, `date`, `entity`) is computed."""

    MAX_ENTRIES = 20_000        # then it starts afresh: a bound, not a cache policy

    def __init__(self):
        self._values: dict[tuple, dict | None] = {}
        self._anchors: dict[tuple[str, str], tuple[tuple[str, ...], ...] | None] = {}
        self._lock = threading.Lock()

    def extract(self, indexer: Indexer, resource: dict, anchor_keys: dict | None = None) -> dict | None:
        resource_type = resource.get("resourceType", "")
        anchors = self._anchors_of(indexer, resource_type)
        if anchors is None:
            return indexer.extract(resource)
        if anchor_keys is None:
            anchor_keys = {}
        key = (resource_type, indexer.param.code, indexer.context.base_url,
               tuple(_anchor_key(resource, anchor, anchor_keys) for anchor in anchors))
        value = self._values.get(key, _UNKNOWN)     # one lookup: another thread may start afresh meanwhile
        if value is not _UNKNOWN:
            return value
        value = indexer.extract(resource)
        with self._lock:
            if len(self._values) >= self.MAX_ENTRIES:
                self._values.clear()
            self._values[key] = value
        return value

    def _anchors_of(self, indexer: Indexer, resource_type: str) -> tuple[tuple[str, ...], ...] | None:
        slot = (resource_type, indexer.param.code)      # one indexer per type and code (registry)
        if slot not in self._anchors:
            self._anchors[slot] = _anchors(indexer)
        return self._anchors[slot]


def _anchor_key(resource: dict, anchor: tuple[str, ...], anchor_keys: dict) -> bytes:
    """The values at `anchor` (through arrays, as the walk finds them), encoded once per resource."""
    key = anchor_keys.get(anchor)
    if key is None:
        key = anchor_keys[anchor] = orjson.dumps(_walk(resource, anchor), option=orjson.OPT_SORT_KEYS)
    return key


def _anchors(indexer: Indexer) -> tuple[tuple[str, ...], ...] | None:
    """The paths of one or two plain steps the parameter's value depends on, or None when that cannot be told.
    The rest of a path walks from the values found there, whatever their element above: so they decide."""
    expression = indexer.expression
    if expression.fallback or indexer.context.components or not expression.simple:
        return None
    anchors = set()
    for _, steps in expression.simple:
        if not steps or steps[0].kind != "child" or steps[0].a in _CHOICES:
            return None
        if len(steps) > 1 and steps[1].kind == "child" and steps[1].a not in _CHOICES:
            anchors.add((steps[0].a, steps[1].a))
        else:
            anchors.add((steps[0].a,))
    return tuple(sorted(anchors))
