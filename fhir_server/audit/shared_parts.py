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
        self._lock = threading.Lock()

    def share(self, resource: dict) -> list:
        """Replace, in `resource` (built for this trace, not shared yet), every part outside the varying places by
        the equal part held already; returns the shared parts now in it."""
        found: list = []
        self._share(resource, self._varying, found)
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
