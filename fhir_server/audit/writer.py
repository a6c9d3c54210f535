"""Appending traces: chained per patient, one insert for all the traces of a unit of work.

A trace is never written on its own: it is queued on a unit of work (the write's, or a unit opened for
a read's traces) and stored with the unit's last writes, in one insert, under the locks of the chains
it extends, taken in key order and held until the unit has committed or rolled back
(storage/CONCURRENCY.md gives the one lock order). So a chain never links to a trace that a rollback
takes away, and unrelated patients never wait for each other. The chain head is cached in memory and
re-read only when another process got there first, which the unique (chain, seq) index reveals.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from ..errors import Conflict, ServiceUnavailable
from ..ids import uuid4_text
from ..search.index import IndexMemo
from ..storage.mongo import MongoStore, UnitOfWork
from .balp import VARYING
from .chain import GENESIS, SYSTEM_CHAIN, BrokenLink, link_hash, verify_chain
from .shared_parts import SharedParts

COLLECTION = "AuditEvent"
CHAIN_INDEX = [("_chain.key", 1), ("_chain.seq", 1)]
ATTEMPTS = 5
# on MongoDB the cached heads are only a shortcut (a stale one is caught by the unique index): keep at most this
# many, so a long-running process does not hold every patient's head
MAX_CACHED_HEADS = 100_000


@dataclass
class _Pending:
    key: str
    resource: dict
    acl: dict
    recorded: datetime
    id: str
    rest: bytes | None    # `resource` outside balp.VARYING (IndexMemo.rest): the key of its shared parts and values
    shared: list          # parts of `resource` held once for every trace (SharedParts)


class ChainLocks:
    """One lock per chain key, kept only while some unit holds or waits for it (a process that traces millions
    of patients does not keep millions of locks). The table's own mutex is a leaf: held only to find, count
    and drop a key's lock, never while acquiring one."""

    def __init__(self):
        self._table: dict[str, list] = {}      # key -> [lock, units holding or waiting for it]
        self._mutex = threading.Lock()

    def hold(self, keys: list[str]) -> Callable[[], None]:
        """Take the locks of `keys` in sorted order (the documented order, so two units never deadlock);
        returns the function that releases them."""
        keys = sorted(set(keys))
        with self._mutex:
            entries = [self._table.setdefault(key, [threading.Lock(), 0]) for key in keys]
            for entry in entries:
                entry[1] += 1
        for lock, _ in entries:
            lock.acquire()
        return lambda: self._release(keys, entries)

    def _release(self, keys: list[str], entries: list[list]) -> None:
        for key, entry in zip(reversed(keys), reversed(entries)):
            entry[0].release()
            with self._mutex:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._table[key]

    def __len__(self) -> int:
        with self._mutex:
            return len(self._table)


class AuditWriter:
    def __init__(self, store: MongoStore):
        self.store = store
        self._heads: dict[str, tuple[int, str]] = {}
        self._locks = ChainLocks()
        self._heads_loaded = False
        self._loading = threading.Lock()
        self._index_memo = IndexMemo(varying=VARYING)
        self._shared_parts = SharedParts(varying=VARYING)
        if not store.embedded:
            # other processes append too: the unique key tells a writer its cached head is stale.
            # (The embedded store lives in one process under one lock, and mongomock scans on unique inserts.)
            store.ensure_unique_index(COLLECTION, CHAIN_INDEX)

    def append(self, resource: dict, acl: dict, recorded: datetime, uow: UnitOfWork | None = None) -> str:
        """Queue one AuditEvent on `uow` (or store it now in a unit of its own); its chain is the patient's
        (or the system chain). Returns its id. `resource` is the writer's from now on (parts of it are replaced by
        the equal ones earlier traces hold)."""
        if uow is None:
            with self.store.unit_of_work() as own:
                return self.append(resource, acl, recorded, own)
        trace_id = uuid4_text()
        resource = {**resource, "id": trace_id, "meta": {**resource.get("meta", {}), "versionId": "1",
                                                          "lastUpdated": resource["recorded"]}}
        rest = self._index_memo.rest(resource)
        pending = _Pending((acl.get("patients") or [SYSTEM_CHAIN])[0], resource, acl, recorded, trace_id, rest,
                           self._shared_parts.share(resource, rest))
        queue = self._queue_of(uow)
        queue.append(pending)
        return pending.id

    def _queue_of(self, uow: UnitOfWork) -> list[_Pending]:
        queue = getattr(uow, "audit_queue", None)
        if queue is None:
            queue = uow.audit_queue = []
            uow.before_commit.append(lambda: self._flush(uow, queue))
        return queue

    def _flush(self, uow: UnitOfWork, queue: list[_Pending]) -> None:
        keys = sorted({p.key for p in queue})
        uow.on_end.append(self._locks.hold(keys))
        uow.on_abort.append(lambda: self._forget(keys))
        self._insert(queue, uow)

    def _insert(self, pending: list[_Pending], uow: UnitOfWork) -> None:
        """The unit's traces in one insert (one round-trip, however many patients it touched). When another process
        extended a chain meanwhile, the traces stored before that one stay; that chain's head is read again and the
        rest built again on it. Each trace meets a moved head at most ATTEMPTS times in a row."""
        misses = 0
        while True:
            docs, reused, heads = [], [], {}
            for trace in pending:
                seq, previous = heads.get(trace.key) or self._head(trace.key)
                doc, shared = self._document(trace, seq + 1, previous)
                heads[trace.key] = (seq + 1, doc["_chain"]["hash"])
                docs.append(doc)
                reused.append(shared)
            try:
                self.store.insert_many(COLLECTION, docs, uow, handed_over=True, reused=reused)
            except Conflict as conflict:
                misses = 1 if conflict.stored else misses + 1     # some stored: the next trace's first miss
                if misses >= ATTEMPTS:
                    break
                self._advance(docs[:conflict.stored])
                self._forget([pending[conflict.stored].key])
                pending = pending[conflict.stored:]
                continue
            self._advance(docs)
            return
        raise ServiceUnavailable("the access trace could not be written: the request is refused")

    def _advance(self, docs: list[dict]) -> None:
        for doc in docs:
            self._heads[doc["_chain"]["key"]] = (doc["_chain"]["seq"], doc["_chain"]["hash"])

    def _forget(self, keys: list[str]) -> None:
        """A rolled-back unit took its traces with it, or another process appended: re-read these heads."""
        for key in keys:
            self._heads.pop(key, None)
            if self.store.embedded and self._heads_loaded:
                self._read_head(key)     # every embedded head stays in memory (see _head)

    def _head(self, key: str) -> tuple[int, str]:
        if key in self._heads:
            return self._heads[key]
        if self.store.embedded:
            # one process holds the embedded store: once loaded, a head missing from memory is a new chain
            if not self._heads_loaded:
                self._load_all_heads()
            return self._heads.get(key, (0, GENESIS))
        return self._read_head(key)

    def _read_head(self, key: str) -> tuple[int, str]:
        if not self.store.embedded and len(self._heads) >= MAX_CACHED_HEADS:
            self._heads.clear()
        last = self.store.find(COLLECTION, {"_chain.key": key}, sort=[("_chain.seq", -1)], limit=1)
        self._heads[key] = (last[0]["_chain"]["seq"], last[0]["_chain"]["hash"]) if last else (0, GENESIS)
        return self._heads[key]

    def _load_all_heads(self) -> None:
        """The embedded store is read once for every chain's head, rather than once per new chain."""
        with self._loading:
            if self._heads_loaded:
                return
            for doc in self.store.find(COLLECTION, {}, projection={"_chain": 1}):
                chain = doc["_chain"]
                if chain["seq"] > self._heads.get(chain["key"], (0, GENESIS))[0]:
                    self._heads[chain["key"]] = (chain["seq"], chain["hash"])
            self._heads_loaded = True

    def _document(self, pending: _Pending, seq: int, previous: str) -> tuple[dict, list]:
        """The stored trace, and the parts of it that other traces share (its own and its index values)."""
        res, key = pending.resource, pending.key
        chain = {"key": key, "seq": seq, "prev": previous, "hash": link_hash(res, pending.acl, key, seq, previous)}
        shared = list(pending.shared)
        idx = self._index_memo.extract(res, shared=shared, rest=pending.rest)
        return {"_id": pending.id, "v": 1, "lu": pending.recorded, "deleted": False, "res": res, "_idx": idx,
                "_acl": pending.acl, "_chain": chain}, shared


def verify(store: MongoStore) -> tuple[int, list[BrokenLink]]:
    """Check every chain; returns (traces checked, first broken link of each broken chain)."""
    keys = sorted({d["_chain"]["key"] for d in store.find(COLLECTION, {}, projection={"_chain.key": 1})})
    broken, checked = [], 0
    for key in keys:
        docs = store.find(COLLECTION, {"_chain.key": key}, sort=[("_chain.seq", 1)])
        checked += len(docs)
        link = verify_chain(key, docs)
        if link:
            broken.append(link)
    return checked, broken
