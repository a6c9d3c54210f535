"""The parts that traces have in common, held once for all of them.

Two traces of one client doing the same thing differ only at known places (balp.VARYING); everything else (its
agents, source, type, the entities' roles...) is equal from trace to trace. The writer stores each such part once
and every trace refers to it: a million traces do not hold a million copies of the same agents, and the embedded
store checks a shared part once (insert_handed_over's `reused`). Shared parts are never changed: a stored trace
is changed only by an update, which first gives it parts of its own."""

from __future__ import annotations

import threading

import orjson

from ..search.index import place_tree

_KEPT = object()


class SharedParts:
    MAX_ENTRIES = 5_000         # then it starts afresh: a bound, not a cache policy

    def __init__(self, varying: tuple[str, ...]):
        self._varying = place_tree(tuple(tuple(path.split(".")) for path in varying))
        self._parts: dict[bytes, object] = {}
        self._shapes: dict[bytes, tuple[dict, list]] = {}    # rest -> (first resource of that rest, its shared parts)
        self._lock = threading.Lock()

    def share(self, resource: dict, rest: bytes | None = None) -> list:
        """Replace, in `resource` (built for this trace, not shared yet), every part outside the varying places by
        the equal part held already; returns the shared parts now in it. `rest` is the resource outside the varying
        places (IndexMemo.rest, for the same places): two resources with one rest are equal outside them, so the
        second takes the first one's parts without encoding each of its own."""
        shape = self._shapes.get(rest) if rest is not None else None     # one lookup (see _held)
        if shape is not None:
            _graft(resource, shape[0], self._varying)
            return shape[1]
        found: list = []
        self._share(resource, self._varying, found)
        if rest is not None:
            with self._lock:
                if len(self._shapes) >= self.MAX_ENTRIES:
                    self._shapes.clear()
                self._shapes.setdefault(rest, (resource, found))
        return found

    def _share(self, node: dict, varying: dict, found: list) -> None:
        for key, item in node.items():
            below = varying.get(key, _KEPT)
            if below is None or type(item) not in (dict, list):
                continue
            if below is _KEPT:
                node[key] = self._held(item)      # an existing key: the dict does not change size
                found.append(node[key])
            elif type(item) is dict:
                self._share(item, below, found)
            else:
                for element in item:
                    if type(element) is dict:
                        self._share(element, below, found)

    def _held(self, part):
        try:       # a datetime is not shared: its JSON would be that of a string
            key = orjson.dumps(part, option=orjson.OPT_PASSTHROUGH_DATETIME)
        except (TypeError, orjson.JSONEncodeError):
            return part
        held = self._parts.get(key)         # one lookup: another thread may start afresh meanwhile
        if held is None:
            with self._lock:
                if len(self._parts) >= self.MAX_ENTRIES:
                    self._parts.clear()
                held = self._parts.setdefault(key, part)
        return held


def _graft(node: dict, model: dict, varying: dict) -> None:
    """Give `node` the parts of `model` outside the varying places (equal in both: their rests are equal)."""
    for key in node:
        below = varying.get(key, _KEPT)
        if below is _KEPT:
            node[key] = model[key]              # an existing key: the dict does not change size
        elif below is not None:
            item = node[key]
            if type(item) is dict:
                _graft(item, model[key], below)
            elif type(item) is list:
                for element, model_element in zip(item, model[key]):
                    if type(element) is dict:
                        _graft(element, model_element, below)
