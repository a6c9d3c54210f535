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


def extract_index(resource: dict, *, base_url: str | None = None, memo: "IndexMemo | None" = None,
                  shared: list | None = None) -> dict:
    """The `_idx` subdocument for `resource` (a dict as stored, with id and meta set). With `memo`, values are
    shared with earlier calls (and listed in `shared`): the caller stores them (the store copies or encodes, or
    keeps them) and never changes them."""
    if memo is not None:
        return memo.extract(resource, base_url, shared)
    idx: dict = {}
    for indexer in _indexers(resource.get("resourceType", ""), base_url):
        value = indexer.extract(resource)
        if value is not None:
            idx[indexer.param.code] = value
    return idx


def _indexers(resource_type: str, base_url: str | None) -> list[Indexer]:
    indexers = registry().indexers(resource_type)
    if base_url is None:
        return indexers
    return [replace(indexer, context=replace(indexer.context, base_url=base_url)) for indexer in indexers]


class IndexMemo:
    """Index values of resources that differ from one another only at known places.

    The audit trail writes one AuditEvent per request, and two requests of one client doing the same thing differ
    only in the trace's id, instants, request id and the references it names (`varying`, element paths). The
    parameters whose paths never reach those places (nor test them in a filter) have the same values for every
    resource that is the same elsewhere: they are remembered by that rest (the resource with the varying places
    left out, encoded), and only the others (`date`, `entity`, `patient`...) are evaluated again. A parameter the
    memo cannot see through (a FHIRPath fallback, a composite) is always evaluated."""

    MAX_ENTRIES = 2_000         # then it starts afresh: a bound, not a cache policy

    def __init__(self, varying: tuple[str, ...]):
        self._varying = tuple(tuple(path.split(".")) for path in varying)
        self._left_out = place_tree(self._varying)
        self._rests: dict[tuple, dict] = {}              # (type, base_url, encoded rest) -> the others' values
        self._split: dict[tuple, tuple[list[Indexer], frozenset[str]]] = {}
        self._lock = threading.Lock()

    def rest(self, resource: dict) -> bytes | None:
        """The resource outside the varying places, encoded; None when it holds a value JSON does not tell apart
        from another (a datetime's JSON is a string's)."""
        try:
            return orjson.dumps(_without(resource, self._left_out), option=orjson.OPT_PASSTHROUGH_DATETIME)
        except (TypeError, orjson.JSONEncodeError):
            return None

    def extract(self, resource: dict, base_url: str | None = None, shared: list | None = None,
                rest: bytes | None = None) -> dict:
        """The index values; those remembered from an earlier resource (the same objects) are added to `shared`.
        `rest`: this memo's `rest(resource)`, when the caller has it already."""
        resource_type = resource.get("resourceType", "")
        evaluated, varying_codes = self._split_of(resource_type, base_url)
        rest = rest if rest is not None else self.rest(resource)
        if rest is None:
            return extract_index(resource, base_url=base_url)
        key = (resource_type, base_url, rest)
        known = self._rests.get(key)          # one lookup: another thread may start afresh meanwhile
        if known is None:
            idx = extract_index(resource, base_url=base_url)
            with self._lock:
                if len(self._rests) >= self.MAX_ENTRIES:
                    self._rests.clear()
                self._rests[key] = {code: value for code, value in idx.items() if code not in varying_codes}
            return idx
        idx = dict(known)
        if shared is not None:
            shared.extend(known.values())
        for indexer in evaluated:
            value = indexer.extract(resource)
            if value is not None:
                idx[indexer.param.code] = value
        return idx

    def _split_of(self, resource_type: str, base_url: str | None) -> tuple[list[Indexer], frozenset[str]]:
        """The indexers evaluated on every resource, and their codes."""
        slot = (resource_type, base_url)
        if slot not in self._split:
            evaluated = [indexer for indexer in _indexers(resource_type, base_url)
                         if _may_read(indexer, self._varying)]
            self._split[slot] = (evaluated, frozenset(indexer.param.code for indexer in evaluated))
        return self._split[slot]


def _may_read(indexer: Indexer, varying: tuple[tuple[str, ...], ...]) -> bool:
    """Whether the parameter's value may depend on a varying place: a path or a filter's subject that is inside one
    (or holds one), or an expression not made of paths."""
    expression = indexer.expression
    if expression.fallback or indexer.context.components or not expression.simple:
        return True
    for _, steps in expression.simple:
        names: list[str] = []
        read = []                       # the element paths whose whole value the evaluation looks at
        for step in steps:
            if step.kind == "child":
                names.append(step.a)
            else:
                read.append(tuple(names))       # a filter or a cast tests the value found so far
        read.append(tuple(names))
        if any(_overlap(path, place) for path in read for place in varying):
            return True
    return False


def _overlap(path: tuple[str, ...], place: tuple[str, ...]) -> bool:
    """One is inside the other (a choice element's name stands for each of its typed names)."""
    return all(a == b or (a in _CHOICES and b.startswith(a)) for a, b in zip(path, place))


def place_tree(places: tuple[tuple[str, ...], ...]) -> dict:
    """Element paths as nested dicts: {"meta": {"lastUpdated": None}, "id": None}, None marking what is left out."""
    tree: dict = {}
    for place in places:
        node = tree
        for name in place[:-1]:
            node = node.setdefault(name, {})
            if node is None:
                break
        else:
            node[place[-1]] = None
    return tree


_KEPT = object()


def _without(value, left_out: dict):
    """`value` without the places of `left_out` (through arrays), sharing what is not on the way to one."""
    if isinstance(value, list):
        return [_without(item, left_out) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        below = left_out.get(key, _KEPT)
        if below is _KEPT:
            out[key] = item
        elif below is not None:
            out[key] = _without(item, below)
    return out
