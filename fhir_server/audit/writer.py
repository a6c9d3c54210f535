"""Appending traces: one insert per trace, chained per patient (the chain head is cached in memory and
re-read only when another process got there first, which the unique (chain, seq) index reveals)."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime

from ..errors import Conflict, ServiceUnavailable
from ..search.index import extract_index
from ..storage.mongo import MongoStore, UnitOfWork
from .chain import GENESIS, SYSTEM_CHAIN, BrokenLink, link_hash, verify_chain

COLLECTION = "AuditEvent"
CHAIN_INDEX = [("_chain.key", 1), ("_chain.seq", 1)]
ATTEMPTS = 5


class AuditWriter:
    def __init__(self, store: MongoStore):
        self.store = store
        self._heads: dict[str, tuple[int, str]] = {}
        self._lock = threading.RLock()
        self._heads_loaded = False
        if not store.embedded:
            # other processes append too: the unique key tells a writer its cached head is stale.
            # (The embedded store lives in one process under one lock, and mongomock scans on unique inserts.)
            store.ensure_unique_index(COLLECTION, CHAIN_INDEX)

    def append(self, resource: dict, acl: dict, recorded: datetime, uow: UnitOfWork | None = None) -> str:
        """Store one AuditEvent; its chain is the patient's (or the system chain). Returns its id."""
        key = (acl.get("patients") or [SYSTEM_CHAIN])[0]
        with self._lock:
            for _ in range(ATTEMPTS):
                seq, previous = self._head(key)
                doc = self._document(resource, acl, recorded, key, seq + 1, previous)
                try:
                    self.store.insert(COLLECTION, doc, uow)
                except Conflict:
                    self._forget_heads()         # another process appended: read the heads again
                    continue
                self._heads[key] = (seq + 1, doc["_chain"]["hash"])
                if uow is not None:
                    uow.on_abort.append(self._forget_heads)
                return doc["_id"]
        raise ServiceUnavailable("the access trace could not be written: the request is refused")

    def _forget_heads(self) -> None:
        """A rolled-back unit of work took its traces with it: read the heads again."""
        self._heads.clear()
        self._heads_loaded = False

    def _head(self, key: str) -> tuple[int, str]:
        if self.store.embedded and not self._heads_loaded:
            self._load_all_heads()
        if key not in self._heads:
            if self.store.embedded:
                return (0, GENESIS)      # one process holds the embedded store: every head is in memory
            last = self.store.find(COLLECTION, {"_chain.key": key}, sort=[("_chain.seq", -1)], limit=1)
            self._heads[key] = (last[0]["_chain"]["seq"], last[0]["_chain"]["hash"]) if last else (0, GENESIS)
        return self._heads[key]

    def _load_all_heads(self) -> None:
        """mongomock scans on every query: read every chain's head once instead of once per new chain."""
        for doc in self.store.find(COLLECTION, {}, projection={"_chain": 1}):
            chain = doc["_chain"]
            if chain["seq"] > self._heads.get(chain["key"], (0, GENESIS))[0]:
                self._heads[chain["key"]] = (chain["seq"], chain["hash"])
        self._heads_loaded = True

    @staticmethod
    def _document(resource: dict, acl: dict, recorded: datetime, key: str, seq: int, previous: str) -> dict:
        id = str(uuid.uuid4())
        res = {**resource, "id": id, "meta": {**resource.get("meta", {}), "versionId": "1",
                                              "lastUpdated": resource["recorded"]}}
        chain = {"key": key, "seq": seq, "prev": previous, "hash": link_hash(res, acl, key, seq, previous)}
        return {"_id": id, "v": 1, "lu": recorded, "deleted": False, "res": res, "_idx": extract_index(res),
                "_acl": acl, "_chain": chain}


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
