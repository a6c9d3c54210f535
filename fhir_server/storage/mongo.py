"""The MongoDB store: the only module that imports pymongo.

Writes are versioned with a compare-and-set on `v` (never read-then-write in Python) and are
atomic with their history entry:
- on a replica set, inside a MongoDB transaction;
- on the embedded store (mongomock with hash indexes, storage/embedded.py: no sessions), under one
  process-wide lock, with an undo log so that a failing unit of work (a transaction Bundle) leaves nothing behind;
- on a standalone mongod (no transactions), history first, then the CAS on the current document,
  with the history entry removed again if the CAS loses.
"""

from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import cached_property, lru_cache
from typing import Callable, Iterator

import pymongo
from pymongo.errors import BulkWriteError, DuplicateKeyError, ExecutionTimeout, OperationFailure, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from ..errors import Conflict, ServiceUnavailable, TooCostly, VersionRace
from .base import Stored, Write

HISTORY = "history"
LEASES = "leases"
WRITE_CONFLICT = 112
# a transaction reads one snapshot and its commit survives the loss of the primary (UNTESTED here: no replica set)
TRANSACTION_OPTIONS = {"read_concern": ReadConcern("snapshot"), "write_concern": WriteConcern("majority"),
                       "read_preference": pymongo.ReadPreference.PRIMARY}
COMMIT_ATTEMPTS = 3
# What a store may lack beyond the MongoDB basics every store serves (find, indexes, compare-and-set):
# - transactions: multi-document transactions (a replica set); without them, the standalone path;
# - elemmatch_subdocuments: `$elemMatch` with conditions on sub-document fields (date, quantity searches);
# - elemmatch_and: `$and` inside `$elemMatch` (composite searches);
# - elemmatch_ranges: both bounds of an `$elemMatch` on an array of numbers hold on one element (number ranges);
# - shared_store: the data outlives the process and several processes can share it.
# MongoDB has them all but transactions on a standalone server; FerretDB v1 lacks the three `$elemMatch` ones
# (it answers "unknown operator", or matches [3, 10.5] with a range 6.5..7.5); mongomock is private to its process.
EMBEDDED_CAPABILITIES = frozenset({"elemmatch_subdocuments", "elemmatch_and", "elemmatch_ranges"})
PROBE_DOCUMENT = {"_id": 1, "a": [{"lo": 1, "hi": 2}], "n": [3.0, 10.5]}
# capability -> (filter, whether it must find the probe document): all must hold, without an error
ELEMMATCH_PROBES = {
    "elemmatch_subdocuments": [({"a": {"$elemMatch": {"lo": {"$lte": 1}, "hi": {"$gt": 1}}}}, True),
                               ({"a": {"$elemMatch": {"lo": {"$lte": 1}}}}, True)],
    "elemmatch_and": [({"a": {"$elemMatch": {"$and": [{"lo": {"$lte": 1}}, {"hi": {"$gt": 1}}]}}}, True)],
    "elemmatch_ranges": [({"n": {"$elemMatch": {"$gte": 6.5, "$lt": 7.5}}}, False),
                         ({"n": {"$elemMatch": {"$gte": 10, "$lt": 11}}}, True)],
}
HISTORY_INDEXES = [
    [("type", 1), ("id", 1), ("v", -1)],
    [("type", 1), ("lu", -1), ("_id", -1)],
    [("lu", -1), ("_id", -1)],
]


@lru_cache(maxsize=1)
def _embedded():
    """The embedded store's module, imported once it is used (a server on MongoDB never loads mongomock)."""
    from . import embedded
    return embedded


def _taken(collection: str, docs: list[dict], stored: int) -> Conflict:
    conflict = Conflict(f"{collection} key {docs[stored].get('_id')} already taken")
    conflict.stored = stored
    return conflict


def now_ms() -> datetime:
    """MongoDB keeps milliseconds: truncate so that meta.lastUpdated equals what is stored."""
    t = datetime.now(timezone.utc)      # the constructor: a third of `replace`'s time
    return datetime(t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond // 1000 * 1000, timezone.utc)


class UnitOfWork:
    """A group of writes that lands whole or not at all."""

    def __init__(self, session=None):
        self.session = session
        self.undo: list[Callable[[], None]] = []       # database undo, for stores without transactions
        self.on_abort: list[Callable[[], None]] = []   # in-memory state to forget, whatever the store
        # last writes of the unit (the access traces), run in order once its body has succeeded, still inside it
        self.before_commit: list[Callable[[], None]] = []
        # run once the unit has committed or rolled back (release the audit chains' locks)
        self.on_end: list[Callable[[], None]] = []

    def finish(self) -> None:
        """The body succeeded: run the last writes (a failing one rolls the whole unit back)."""
        while self.before_commit:
            self.before_commit.pop(0)()

    def end(self) -> None:
        for action in reversed(self.on_end):
            action()
        self.on_end.clear()

    def rollback(self) -> None:
        if self.session is None:
            for action in reversed(self.undo):
                action()
        for action in reversed(self.on_abort):
            action()
        self.undo.clear()
        self.on_abort.clear()


class MongoStore:
    def __init__(self, client, db_name: str, *, embedded: bool):
        self.client = client
        self.db = client[db_name]
        self.embedded = embedded
        self._lock = threading.RLock() if embedded else None
        self._transactions = False if embedded else _supports_transactions(client)
        # the unit of work (transaction) this thread is in: reads inside it see its own uncommitted writes
        self._local = threading.local()
        self._declared: dict[str, list[list[tuple[str, int]]]] = {}   # what ensure_indexes built, for readiness

    @classmethod
    def connect(cls, uri: str | None, db_name: str) -> "MongoStore":
        if not uri:
            return cls(_embedded().client(), db_name, embedded=True)
        client = pymongo.MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000)
        return cls(client, db_name, embedded=False)

    def versions(self, collections: tuple[str, ...]) -> tuple | None:
        """A value that changes whenever any of these collections changes, or None when none can be given: on a
        database server another process may write at any moment, so what was read once cannot be kept. The
        embedded store counts its own changes (one process holds it), rollbacks included."""
        if not self.embedded:
            return None
        collection_version = _embedded().collection_version
        versions = tuple(collection_version(self.db[name]) for name in collections)
        return None if None in versions else versions

    @property
    def transactional(self) -> bool:
        return self._transactions

    @cached_property
    def capabilities(self) -> frozenset[str]:
        """Declared for the embedded store, detected on a server (once, on first use)."""
        if self.embedded:
            return EMBEDDED_CAPABILITIES
        found = {"shared_store"} | ({"transactions"} if self._transactions else set())
        return frozenset(found | self._probe_elemmatch())

    def _probe_elemmatch(self) -> set[str]:
        """Ask the server itself: some reject an operator only once a document reaches it, so the probes
        query one document in a scratch collection of its own (concurrent start-ups do not collide)."""
        scratch = self.db[f"_probe_{uuid.uuid4().hex}"]
        try:
            scratch.insert_one(PROBE_DOCUMENT)
            return {name for name, probes in ELEMMATCH_PROBES.items() if _holds(scratch, probes)}
        except PyMongoError as e:
            raise ServiceUnavailable(f"storage unavailable: {type(e).__name__}") from e
        finally:
            scratch.drop()

    @property
    def kind(self) -> str:
        if self.embedded:
            return "embedded (in-memory)"
        return "MongoDB replica set" if self._transactions else "MongoDB standalone"

    # -- plumbing -----------------------------------------------------------------------------
    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Serialise access to mongomock (not thread-safe); map driver failures to 503."""
        try:
            if self._lock is None:
                yield
            else:
                with self._lock:
                    yield
        except DuplicateKeyError:
            raise
        except ExecutionTimeout as e:      # a query's max_time_ms ran out (a search's time budget)
            raise TooCostly("the search takes too long: narrow its criteria") from e
        except OperationFailure as e:
            if e.has_error_label("TransientTransactionError") or e.code == WRITE_CONFLICT:
                # the transaction aborted whole: services/dispatch.py redoes a write without If-Match
                raise VersionRace("a concurrent write touched the same data; retry") from e
            raise ServiceUnavailable(f"storage unavailable: {type(e).__name__}") from e
        except PyMongoError as e:
            raise ServiceUnavailable(f"storage unavailable: {type(e).__name__}") from e

    def ensure_unique_index(self, collection: str, keys: list[tuple[str, int]]) -> None:
        with self._guard():
            self.db[collection].create_index(keys, unique=True)

    def _reading(self) -> dict:
        uow = getattr(self._local, "uow", None)
        return {"session": uow.session} if uow is not None else {}

    def ensure_indexes(self, declarations: dict[str, list[list[tuple[str, int]]]]) -> None:
        with self._guard():
            for name, key_lists in {**declarations, HISTORY: HISTORY_INDEXES}.items():
                for keys in key_lists:
                    self.db[name].create_index(keys)
                self._declared[name] = key_lists

    # -- operations -----------------------------------------------------------------------------
    def ping(self) -> None:
        """Raises ServiceUnavailable when the database does not answer."""
        with self._guard():
            self.db.command("ping")

    def missing_indexes(self) -> list[str]:
        """The declared indexes the database does not hold (another process or an operator may drop one)."""
        missing = []
        with self._guard():
            for name, key_lists in self._declared.items():
                present = {tuple(info["key"]) for info in self.db[name].index_information().values()}
                missing += [f"{name}({', '.join(f'{k} {d}' for k, d in keys)})" for keys in key_lists
                            if tuple(keys) not in present]
        return missing

    def acquire_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the lease `name` until now + ttl; False while another holder's lease is live.

        One compare-and-set: the filter matches the lease if it is ours or stale, and an upsert creates it
        when absent; a live lease of another holder makes the upsert collide on `_id` (DuplicateKeyError).
        Holders compare their own clocks with `until`: the ttl must dwarf the clock skew between machines."""
        mine_or_stale = {"_id": name, "$or": [{"holder": holder}, {"until": {"$lte": now}}]}
        with self._guard():
            try:
                self.db[LEASES].update_one(mine_or_stale, {"$set": {"holder": holder, "until": now + ttl}},
                                           upsert=True)
            except DuplicateKeyError:
                return False
        return True

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (at shutdown) so that another process takes over without waiting for the ttl."""
        with self._guard():
            self.db[LEASES].delete_one({"_id": name, "holder": holder})

    # -- reads --------------------------------------------------------------------------------
    def read(self, resource_type: str, id: str) -> Stored | None:
        with self._guard():
            doc = self.db[resource_type].find_one({"_id": id}, {"_idx": 0, "_chain": 0}, **self._reading())
        return Stored.from_doc(resource_type, doc) if doc else None

    def read_doc(self, resource_type: str, id: str, *, index: bool = True) -> dict | None:
        """The full current document, server fields included (for the access policy); `index=False` leaves out
        the search index and the chain, which no decision reads and which are most of a document."""
        with self._guard():
            return self.db[resource_type].find_one({"_id": id}, None if index else {"_idx": 0, "_chain": 0},
                                                    **self._reading())

    def vread(self, resource_type: str, id: str, version: int) -> Stored | None:
        with self._guard():
            doc = self.db[HISTORY].find_one({"_id": f"{resource_type}/{id}/{version}"}, **self._reading())
            if doc is None:
                # server-written resources (AuditEvent) have one version and no history entry
                doc = self.db[resource_type].find_one({"_id": id, "v": version}, {"_idx": 0, "_chain": 0},
                                                      **self._reading())
        return Stored.from_doc(resource_type, doc) if doc else None

    def find(self, resource_type: str, filter: dict, *, sort: list[tuple[str, int]] | None = None,
             limit: int = 0, skip: int = 0, projection: dict | None = None,
             max_time_ms: int | None = None) -> list[dict]:
        with self._guard():
            cursor = self.db[resource_type].find(filter, projection, **self._reading())
            if max_time_ms:
                cursor = cursor.max_time_ms(max_time_ms)
            if sort:
                cursor = cursor.sort(sort)
            if skip:
                cursor = cursor.skip(skip)
            if limit:
                cursor = cursor.limit(limit)
            return list(cursor)

    def count(self, resource_type: str, filter: dict, limit: int = 0, max_time_ms: int | None = None) -> int:
        with self._guard():
            kwargs = {"limit": limit} if limit else {}
            if max_time_ms:
                kwargs["maxTimeMS"] = max_time_ms
            return self.db[resource_type].count_documents(filter, **kwargs, **self._reading())

    def history(self, filter: dict, *, limit: int) -> list[dict]:
        """History entries, newest first; `filter` is on type, id, lu and the paging key."""
        with self._guard():
            cursor = self.db[HISTORY].find(filter, **self._reading()).sort([("lu", -1), ("_id", -1)]).limit(limit)
            return list(cursor)

    def count_history(self, filter: dict) -> int:
        with self._guard():
            return self.db[HISTORY].count_documents(filter, **self._reading())

    # -- writes -------------------------------------------------------------------------------
    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """All writes made through the yielded unit land together, or none does."""
        if self._transactions:
            outer = getattr(self._local, "uow", None)
            if outer is not None:
                yield outer     # joins the transaction this thread is in: it commits with it
                return
            with self._guard(), self.client.start_session() as session:
                uow = UnitOfWork(session)
                self._local.uow = uow
                try:
                    session.start_transaction(**TRANSACTION_OPTIONS)
                    yield uow
                    uow.finish()
                    _commit(session)
                except BaseException:
                    if session.in_transaction:
                        session.abort_transaction()
                    uow.rollback()
                    raise
                finally:
                    self._local.uow = None
                    uow.end()
            return
        with self._guard():
            uow = UnitOfWork()
            try:
                yield uow
                uow.finish()
            except BaseException:
                uow.rollback()
                raise
            finally:
                uow.end()

    def write(self, w: Write, last_updated: datetime, uow: UnitOfWork | None = None) -> Stored:
        """Store one new version; raises VersionRace when `expected_version` is not the current one."""
        if uow is None:
            with self.unit_of_work() as own:
                return self.write(w, last_updated, own)
        version = (w.expected_version or 0) + 1
        current = {"_id": w.id, "v": version, "lu": last_updated, "deleted": w.deleted,
                   "res": w.resource, "_idx": w.index, "_acl": w.acl}
        history = {"_id": f"{w.resource_type}/{w.id}/{version}", "type": w.resource_type, "id": w.id,
                   "v": version, "lu": last_updated, "deleted": w.deleted, "res": w.resource,
                   "_acl": w.acl}   # each version is judged on its own record and labels (issue 10)
        with self._guard():
            self._insert_history(history, uow)
            self._swap_current(w, current, uow)
        return Stored.from_doc(w.resource_type, current)

    def _insert_history(self, history: dict, uow: UnitOfWork) -> None:
        hist = self.db[HISTORY]
        try:
            hist.insert_one(history, session=uow.session)
        except DuplicateKeyError as e:
            raise VersionRace(f"version {history['v']} of {history['type']}/{history['id']} already exists") from e
        uow.undo.append(lambda: hist.delete_one({"_id": history["_id"]}))

    def _swap_current(self, w: Write, current: dict, uow: UnitOfWork) -> None:
        coll = self.db[w.resource_type]
        try:
            if w.expected_version is None:
                coll.insert_one(current, session=uow.session)
                uow.undo.append(lambda: coll.delete_one({"_id": w.id}))
                return
            previous = coll.find_one_and_replace({"_id": w.id, "v": w.expected_version}, current,
                                                 session=uow.session)
        except DuplicateKeyError as e:
            self._undo_now(uow)
            raise VersionRace(f"{w.resource_type}/{w.id} already exists") from e
        if previous is None:
            self._undo_now(uow)
            raise VersionRace(f"{w.resource_type}/{w.id} is not at version {w.expected_version}")
        uow.undo.append(lambda: coll.replace_one({"_id": w.id}, previous))

    def _undo_now(self, uow: UnitOfWork) -> None:
        # only the history entry of this very write is undone here; a transaction aborts on its own
        if uow.session is None and uow.undo:
            uow.undo.pop()()

    def insert(self, collection: str, doc: dict, uow: UnitOfWork | None = None) -> None:
        """Insert a server document (conditional key, notice); DuplicateKeyError → Conflict."""
        self.insert_many(collection, [doc], uow)

    def insert_many(self, collection: str, docs: list[dict], uow: UnitOfWork | None = None, *,
                    handed_over: bool = False, reused: list | None = None) -> None:
        """Insert server documents in order, in one round-trip. The first whose key is taken stops the rest: a
        Conflict whose `stored` counts the documents inserted before it (they stay, undone with the unit).
        `handed_over`: the caller never touches the documents again, so the embedded store may keep them rather
        than copies; `reused[i]`: containers inside `docs[i]` that it hands over again in later documents, unchanged
        (the embedded store checks those once)."""
        coll = self.db[collection]
        session = uow.session if uow else None
        stored = 0
        with self._guard():
            try:
                if handed_over and self.embedded:
                    for position, doc in enumerate(docs):
                        _embedded().insert_handed_over(coll, doc, reused[position] if reused else ())
                        stored += 1
                else:
                    coll.insert_many(docs, ordered=True, session=session)
                    stored = len(docs)
            except DuplicateKeyError as e:
                raise _taken(collection, docs, stored) from e
            except BulkWriteError as e:
                errors = e.details.get("writeErrors") or []
                stored = errors[0].get("index", 0) if errors else e.details.get("nInserted", 0)
                if errors and errors[0].get("code") == 11000:
                    raise _taken(collection, docs, stored) from e
                raise                             # not a taken key: _guard says what the store's failure is
            finally:
                if uow is not None:
                    uow.undo += [lambda d=doc: coll.delete_one({"_id": d["_id"]}) for doc in docs[:stored]]

    def replace_raw(self, collection: str, filter: dict, doc: dict, uow: UnitOfWork | None = None) -> bool:
        """Compare-and-set replace of a server document; True when the filter matched."""
        coll = self.db[collection]
        with self._guard():
            previous = coll.find_one_and_replace(filter, doc, session=uow.session if uow else None)
            if previous is not None and uow is not None:
                uow.undo.append(lambda: coll.replace_one({"_id": previous["_id"]}, previous))
            return previous is not None

    def purge(self, resource_type: str, filter: dict, uow: UnitOfWork) -> int:
        """Physically delete matching resources and all their versions (retention ended); returns the count."""
        coll = self.db[resource_type]
        with self._guard():
            docs = list(coll.find(filter, session=uow.session))
            for doc in docs:
                versions = list(self.db[HISTORY].find({"type": resource_type, "id": doc["_id"]}, session=uow.session))
                self.db[HISTORY].delete_many({"type": resource_type, "id": doc["_id"]}, session=uow.session)
                coll.delete_one({"_id": doc["_id"]}, session=uow.session)
                uow.undo.append(lambda d=doc, v=versions: (coll.insert_one(d), v and self.db[HISTORY].insert_many(v)))
        return len(docs)

    def find_raw(self, collection: str, filter: dict) -> dict | None:
        with self._guard():
            return self.db[collection].find_one(filter, **self._reading())


def _commit(session) -> None:
    """Commit, retrying while the outcome is unknown (a network error or a failover during the commit), as
    ClientSession.with_transaction does: a commit is idempotent. A TransientTransactionError is left to the
    caller (VersionRace through _guard): only the caller can run the writes of the unit of work again, and
    services/dispatch.py does."""
    for attempt in range(COMMIT_ATTEMPTS):
        try:
            session.commit_transaction()
            return
        except PyMongoError as e:
            if attempt == COMMIT_ATTEMPTS - 1 or not e.has_error_label("UnknownTransactionCommitResult"):
                raise


def _holds(collection, probes: list[tuple[dict, bool]]) -> bool:
    try:
        return all((collection.find_one(f) is not None) == found for f, found in probes)
    except OperationFailure:
        return False


def _supports_transactions(client) -> bool:
    try:
        hello = client.admin.command("hello")
    except PyMongoError:
        return False
    return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
