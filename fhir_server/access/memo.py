"""What the policy read from the store, kept across requests while the collections it came from are unchanged.

A professional's every request asks for the same facts: the record's Patient, Consents and CareTeams, their
own PractitionerRoles and qualifications. On the embedded store each of those queries costs a scan of its
candidates by mongomock's matcher; the store counts its changes per collection (`MongoStore.versions`), so an
answer read at one count is still the answer while the count stands, whoever wrote in between: a new Consent,
a revoked role, a rolled-back write, all change the count and the next request reads again. On a database
server `versions` gives None and nothing is kept: another process may write at any moment.

Values are shared between requests: callers only read them (facts, roles, professions are never changed in
place; relationships.py builds them from copies the store returned).
"""

from __future__ import annotations

import threading
import weakref
from typing import Callable, Hashable, Iterable

from ..storage.mongo import MongoStore

MAX_ENTRIES = 20_000          # per kind; then it starts afresh: a bound, not a cache policy
_MISSING = object()
# store -> kind -> (the versions its entries were read at, key -> value): a change drops that kind's entries
_memos: "weakref.WeakKeyDictionary[MongoStore, dict[str, tuple[tuple, dict]]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def recalled(store: MongoStore, kind: str, keys: Iterable[Hashable], collections: tuple[str, ...],
             load: Callable[[list], dict]) -> dict:
    """{key: value} for every key: remembered where the collections are unchanged since, else `load(missing)`
    (which returns a value for each key it is given)."""
    keys = list(keys)
    versions = store.versions(collections)       # read before loading: a write meanwhile changes it again
    if versions is None:
        return load(keys)
    entries = _entries(store, kind, versions)
    found, missing = {}, []
    for key in keys:
        value = entries.get(key, _MISSING)
        if value is _MISSING:
            missing.append(key)
        else:
            found[key] = value
    if missing:
        loaded = load(missing)
        with _lock:
            if len(entries) + len(missing) > MAX_ENTRIES:
                entries.clear()
            entries.update((key, loaded[key]) for key in missing)
        found.update(loaded)
    return found


def _entries(store: MongoStore, kind: str, versions: tuple) -> dict:
    """This kind's entries read at `versions`; those read at other versions are dropped (they can never be
    asked for again: the counts only grow)."""
    with _lock:
        kinds = _memos.setdefault(store, {})
        held = kinds.get(kind)
        if held is None or held[0] != versions:
            if held is not None and held[0] > versions:
                return {}          # a request that read the counts before a newer one stored its entries
            held = kinds[kind] = (versions, {})
        return held[1]
