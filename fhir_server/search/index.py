"""Index values extracted once per write: the `_idx` subdocument stored beside the resource.

`_idx` has one key per search parameter of the resource's type that has a value (parameters with no value
are absent, which is what `:missing=true` finds). `_id` is the document key and is not repeated.
`_lastUpdated`, `_tag`, `_profile`, `_security` and `_source` come from `meta` like any other parameter.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import orjson

from fhir_server.search.expressions import _CHOICES, Node, _Step, _walk
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
    """Index values remembered by the values they are computed from.

    A parameter whose expression is plain paths (no FHIRPath fallback) depends only on what the first two steps of
    each path find, with the filters that follow them (its anchors: `meta.profile`, `agent.who`, `entity.what`
    of type Patient): the rest of the walk starts from those values, so the same values give the same index
    value. The audit trail writes one AuditEvent per request whose source, type, action, outcome, agents and
    entity kinds repeat from one request to the next: most of its two dozen parameters are found here instead
    of being evaluated again; only what depends on the instant and the request id (`_lastUpdated`, `date`,
    `entity`) is computed."""

    MAX_ENTRIES = 20_000        # then it starts afresh: a bound, not a cache policy

    def __init__(self):
        self._values: dict[tuple, dict | None] = {}
        self._anchors: dict[tuple[str, str], tuple[_Anchor, ...] | None] = {}
        self._lock = threading.Lock()

    def extract(self, indexer: Indexer, resource: dict, anchor_keys: dict | None = None) -> dict | None:
        resource_type = resource.get("resourceType", "")
        anchors = self._anchors_of(indexer, resource_type)
        if anchors is None:
            return indexer.extract(resource)
        if anchor_keys is None:
            anchor_keys = {}
        key = (resource_type, indexer.param.code, indexer.context.base_url,
               tuple([anchor.key(resource, anchor_keys) for anchor in anchors]))
        value = self._values.get(key, _UNKNOWN)     # one lookup: another thread may start afresh meanwhile
        if value is not _UNKNOWN:
            return value
        value = indexer.extract(resource)
        with self._lock:
            if len(self._values) >= self.MAX_ENTRIES:
                self._values.clear()
            self._values[key] = value
        return value

    def _anchors_of(self, indexer: Indexer, resource_type: str) -> tuple[_Anchor, ...] | None:
        slot = (resource_type, indexer.param.code)      # one indexer per type and code (registry)
        if slot not in self._anchors:
            self._anchors[slot] = _anchors(indexer)
        return self._anchors[slot]


class _Anchor:
    """The first steps of a path: what they find (values, and their choice types where a choice element is
    stepped through), in order, encoded once per resource."""

    def __init__(self, steps: tuple[_Step, ...]):
        self.steps = steps
        self.name = repr(steps)          # its key among the resource's anchors (a str hashes once)
        names = []
        for step in steps:
            if step.kind != "child":
                break
            names.append(step.a)
        self.filters = steps[len(names):]
        plain = not _CHOICES.intersection(names) and all(step.kind in ("resolve", "where") for step in self.filters)
        self.names = tuple(names) if plain else None

    def key(self, resource: dict, anchor_keys: dict) -> bytes:
        key = anchor_keys.get(self.name)
        if key is None:
            key = anchor_keys[self.name] = orjson.dumps(self._found(resource))
        return key

    def _found(self, resource: dict) -> list:
        if self.names is None:
            nodes = [Node(resource)]
            for step in self.steps:
                nodes = step.apply(nodes)
            return [(node.value, node.fhir_type) for node in nodes]
        values = _walk(resource, self.names)     # the common case, over the JSON values (expressions._walk)
        for step in self.filters:
            values = [v for v in values if step.keeps(v)]
        return values


def _anchors(indexer: Indexer) -> tuple[_Anchor, ...] | None:
    """The first two steps of each path and the filters right after them, or None when the value cannot be told
    from steps (a FHIRPath fallback, a composite)."""
    expression = indexer.expression
    if expression.fallback or indexer.context.components or not expression.simple:
        return None
    anchors = {}
    for _, steps in expression.simple:
        end = min(2, len(steps))
        while end < len(steps) and steps[end].kind != "child":
            end += 1
        anchor = _Anchor(tuple(steps[:end]))
        anchors[anchor.name] = anchor
    return tuple(anchors[name] for name in sorted(anchors))
