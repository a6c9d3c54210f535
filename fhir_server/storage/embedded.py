"""The embedded store: mongomock, with hash indexes so that point access and patient-scoped queries do not scan.

mongomock evaluates every query against every document of the collection (about 22 ms per `_id` lookup at
16,000 documents). Here each collection keeps, beside mongomock's own documents, a hash index per field that
queries test for equality (`_id` always; any other field the first time a query tests it, built by one scan
and then kept up to date on every insert, replace, in-place update and delete). A query then evaluates only
the documents that the index names, in their insertion order, with mongomock's own matcher: the answers are
mongomock's, only the candidates are fewer. A filter the indexes cannot narrow is evaluated as before.

Answers are copied once. mongomock copies every matching document (leaf by leaf, with `copy.copy`), then copies
it again to make its datetimes timezone-aware, and only then applies skip and limit: a `limit=1` on a sorted
query copied the whole match. Here a cursor sorts, skips and limits the stored documents first, then copies only
what it returns, in one pass that also makes datetimes aware (as mongomock's tz_aware client does); a field of a
document that the plain inserts stored (and no update changed since) is copied by orjson, when its JSON is exact
(no datetime, no NaN). Projections
of whole top-level fields (`{"res": 1}`, `{"_idx": 0}`) are copied the same way; any other goes through
mongomock's own projection code.

Inserts of plain documents (JSON values and datetimes, what the server writes) are checked and copied in one
pass; mongomock walks each three times (null characters in keys, a BSON encoding, the datetime copy). Anything
else (tuples, bytes, an ObjectId to assign, a key BSON refuses) goes through mongomock's own insert, which
stores it or raises what it raises; the differential tests compare both.

mongomock has no hook for this, so `install()` wraps some methods of its Collection class and gives the cursors
of indexed collections a class of their own; none of it changes collections not stored in an
IndexedCollectionStore.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from datetime import datetime, timezone
from functools import lru_cache

import mongomock
import orjson
from mongomock import collection as mongomock_collection
from mongomock import filtering, helpers
from mongomock import store as mongomock_store
from mongomock.filtering import filter_applies

_NARROWABLE = (str, int, bool)


class IndexedCollectionStore(mongomock_store.CollectionStore):
    def __init__(self, name):
        super().__init__(name)
        self._position: dict = {}                   # _id -> insertion number: mongomock's natural order
        self._counter = itertools.count()
        self._fields: dict[str, dict] = {}          # field path -> value -> set of _id
        self._anywhere: dict[str, set] = {}         # field path -> _ids whose value cannot be hashed
        self.shared: set = set()                    # _ids of documents stored as handed over (insert_handed_over)
        self.plain: set = set()                     # _ids of documents of JSON values and datetimes only (_copy_of)
        self.checked: dict[int, object] = {}        # id -> container checked as plain once (insert_handed_over)
        self.version = 0                            # counts the changes: what was read at a version still holds

    # -- maintenance ----------------------------------------------------------------------------
    # Writes skip mongomock's reader/writer lock: every access to an embedded collection holds the store's own lock
    # (storage/CONCURRENCY.md, lock 1), which already excludes every other reader and writer.
    def __setitem__(self, key, val):
        documents = self._documents
        if key in documents:
            self.unindex(documents[key])
        else:
            self._position[key] = next(self._counter)
        self.shared.discard(key)
        self.plain.discard(key)             # the inserts that know it plain say so once it is stored
        documents[key] = val
        self.index(val)
        self.version += 1

    def __delitem__(self, key):
        self.unindex(self._documents[key])
        del self._documents[key]
        self._position.pop(key, None)
        self.shared.discard(key)
        self.plain.discard(key)
        self.version += 1

    def drop(self):
        super().drop()
        self.version += 1
        self._position.clear()
        self.shared.clear()
        self.plain.clear()
        self._fields.clear()
        self._anywhere.clear()

    def index(self, doc: dict) -> None:
        for path in self._fields:
            self._add(path, doc)

    def unindex(self, doc: dict) -> None:
        id_ = _key_of(doc)
        for path, table in self._fields.items():
            for value in _values(doc, path):
                if isinstance(value, Hashable):
                    table.get(value, set()).discard(id_)
            self._anywhere[path].discard(id_)

    def _add(self, path: str, doc: dict) -> None:
        table, id_ = self._fields[path], _key_of(doc)
        for value in _values(doc, path):
            if isinstance(value, Hashable):
                table.setdefault(value, set()).add(id_)
            else:
                self._anywhere[path].add(id_)

    def _table(self, path: str) -> dict:
        if path not in self._fields:
            self._fields[path], self._anywhere[path] = {}, set()
            for doc in self._documents.values():
                self._add(path, doc)
        return self._fields[path]

    # -- narrowing ------------------------------------------------------------------------------
    def candidates(self, filter: dict) -> list[dict] | None:
        """The documents that may match `filter`, in insertion order; None when no index narrows it."""
        parts = self._narrowest(filter)
        if parts is None:
            return None
        found = [id_ for id_ in set().union(*parts) if id_ in self._documents]
        found.sort(key=self._position.__getitem__)
        return [self._documents[id_] for id_ in found]

    def _narrowest(self, filter: dict) -> list | None:
        """The id sets (the index's own, not copies) whose union holds every match of `filter`: of all the
        conditions that narrow it, the one naming the fewest documents."""
        options: list[list] = []
        for key, condition in filter.items():
            if key == "$and":
                options += [parts for part in condition if (parts := self._narrowest(part)) is not None]
            elif key == "$or":
                branches = [self._narrowest(part) for part in condition]
                if branches and all(b is not None for b in branches):
                    options.append([ids for branch in branches for ids in branch])
            elif _plain_path(key) and (values := _equal_values(condition)) is not None:
                options.append(self._lookup(key, values))
        return min(options, key=lambda parts: sum(map(len, parts))) if options else None

    def _lookup(self, path: str, values: list) -> list:
        if path == "_id":
            return [set(values)]
        table = self._table(path)
        return [table[v] for v in values if v in table] + [self._anywhere[path]]


def collection_version(collection) -> int | None:
    """How many times this collection changed, or None for a collection without the count (plain mongomock)."""
    store = collection._store
    return store.version if isinstance(store, IndexedCollectionStore) else None


def _key_of(doc: dict):
    """The document's key in mongomock's store (a document `_id` is kept as a hashable copy)."""
    id_ = doc.get("_id")
    return helpers.hashdict(id_) if isinstance(id_, dict) else id_


def _plain_path(key: str) -> bool:
    """A field path without operators or array positions (`a.0.b` is left to mongomock's matcher)."""
    return not key.startswith("$") and not any(part.isdigit() for part in key.split("."))


def _equal_values(condition) -> list | None:
    """The values an equality (`v`, `{$eq: v}`, `{$in: [..]}`) accepts, when all are plain scalars."""
    if isinstance(condition, dict):
        if "$eq" in condition:
            condition = condition["$eq"]
        elif "$in" in condition and isinstance(condition["$in"], (list, tuple)):
            values = list(condition["$in"])
            return values if all(type(v) in _NARROWABLE for v in values) else None
        else:
            return None
    return [condition] if type(condition) in _NARROWABLE else None


def _values(doc, path: str) -> list:
    """Every value at a dotted path, through arrays of documents, as a MongoDB equality sees them (an array's
    elements); an array of arrays or a document stands as unhashable, so the document is always a candidate."""
    current = [doc]
    for part in path.split("."):
        following = []
        for value in current:
            if isinstance(value, dict):
                if part in value:
                    following.append(value[part])
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        if part in item:
                            following.append(item[part])
                    elif isinstance(item, list):
                        following.append(_UNHASHABLE)
        current = following
    flat = []
    for value in current:
        if isinstance(value, list):
            flat += [item if not isinstance(item, (list, dict)) else _UNHASHABLE for item in value]
        else:
            flat.append(value)
    return flat


_UNHASHABLE = []     # an unhashable stand-in (see _values)


class IndexedDatabaseStore(mongomock_store.DatabaseStore):
    def __getitem__(self, col_name):
        if col_name not in self._collections:
            self._collections[col_name] = IndexedCollectionStore(col_name)
        return self._collections[col_name]


class IndexedServerStore(mongomock_store.ServerStore):
    def __getitem__(self, db_name):
        if db_name not in self._databases:
            self._databases[db_name] = IndexedDatabaseStore()
        return self._databases[db_name]


class IndexedCursor(mongomock_collection.Cursor):
    """mongomock's cursor, computing its results as mongomock does (same matcher, same sort, same projection) but
    copying only the documents it returns, once."""

    _copied_for = None

    def _compute_results(self, with_limit_and_skip=False):
        key = (self._factory, self._spec, self._skip, self._limit, with_limit_and_skip)
        if self._copied_for != key:     # mongomock recomputes when the query changes (sort() makes a new factory)
            self._copied = self._results_now(with_limit_and_skip)
            self._copied_for = key
        return self._copied

    def _results_now(self, with_limit_and_skip: bool) -> list[dict]:
        collection = self.collection
        stored = _sorted(collection._iter_documents(self._spec), self._sort)
        if with_limit_and_skip:
            stored = stored[self._skip:]
            if self._limit:
                stored = stored[:abs(self._limit)]
        store = collection._store
        if self._projection is None:
            return [_copy_of(store, doc) for doc in stored]
        plain = _top_level(self._projection)
        if plain is not None:
            return [_projected(store, doc, *plain) for doc in stored]
        return [helpers.make_datetime_timezone_aware_in_document(
                    collection._copy_only_fields(doc, dict(self._projection), dict)) for doc in stored]


def _top_level(projection) -> tuple[bool, frozenset, bool] | None:
    """(include, fields, with _id) for a projection of top-level fields only, all included or all excluded
    (`{"res": 1}`, `{"_idx": 0, "_chain": 0}`): the shapes the server asks for; None for any other."""
    if not isinstance(projection, dict) or not projection:
        return None
    try:
        return _top_level_of(tuple((k, type(v), v) for k, v in projection.items()))    # 1, 1.0 and True differ
    except TypeError:           # an unhashable value: an operator's argument, not a flag
        return None


@lru_cache(maxsize=64)          # the server asks for a handful of projections, again and again
def _top_level_of(items: tuple) -> tuple[bool, frozenset, bool] | None:
    projection = {k: v for k, _, v in items}
    fields = {k: v for k, v in projection.items() if k != "_id"}
    flags = {bool(v) for v in fields.values()}
    if not fields or len(flags) != 1 or any("." in k or k.startswith("$") for k in fields) \
            or any(type(v) not in (int, bool) for v in projection.values()):
        return None
    return flags.pop(), frozenset(fields), bool(projection.get("_id", 1))


def _projected(store: "IndexedCollectionStore", doc: dict, include: bool, fields: frozenset, with_id: bool) -> dict:
    """mongomock's projection of these shapes (same keys, same order: the kept fields in the document's order,
    then `_id` where mongomock puts it), copied as _returned copies."""
    copied = _copied_field if _key_of(doc) in store.plain else _returned
    copy = {k: copied(v) for k, v in doc.items() if (k in fields) == include}    # `fields` never holds _id
    if not with_id:
        copy.pop("_id", None)
    elif "_id" in doc:
        copy["_id"] = doc["_id"]
    return copy


def _sorted(dataset, sort) -> list[dict]:
    """mongomock's sort (Collection._get_dataset), on the stored documents themselves."""
    dataset = list(dataset)
    if sort:
        if isinstance(sort, dict):
            sort = sort.items()
        for sort_key, direction in reversed(list(sort)):
            if sort_key == "$natural":
                if direction < 0:
                    dataset.reverse()
                continue
            if sort_key.startswith("$"):
                raise NotImplementedError(f"Sorting by {sort_key} is not implemented in mongomock yet")
            dataset.sort(key=lambda doc, k=sort_key: filtering.resolve_sort_key(k, doc), reverse=direction < 0)
    return dataset


def _copy_of(store: "IndexedCollectionStore", doc: dict) -> dict:
    """_returned(doc), for a document the store holds."""
    if _key_of(doc) in store.plain:
        return {k: _copied_field(v) for k, v in doc.items()}
    return _returned(doc)


def _copied_field(value):
    """_returned(value) for a field of a plain document (JSON values and stored datetimes only, no more than int64:
    what the plain inserts store): a container without datetimes is copied by orjson, encoded and decoded, in a
    third of the time. Its JSON is the value exactly, except a NaN or an infinity, which JSON writes as null: a
    container whose JSON holds null anywhere is copied by _returned, as is one holding a datetime."""
    kind = type(value)
    if kind is dict or kind is list:
        try:
            encoded = orjson.dumps(value, option=_EXACT_JSON)
        except TypeError:
            return _returned(value)
        if b"null" not in encoded:
            return orjson.loads(encoded)
    return _returned(value)


# a datetime (not a string in JSON) and a subclass of a JSON type (not the same type once decoded) are refused
_EXACT_JSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS


def _returned(value):
    """A copy of a stored value for the caller, datetimes made aware: what mongomock's copy and its tz_aware pass
    together give (stored datetimes are naive UTC), in one pass; immutable leaves are shared."""
    kind = type(value)
    if kind is dict:
        return {k: _returned(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_returned(v) for v in value]
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is datetime:        # stored naive UTC (_stored_instant); the constructor takes a third of replace's time
        return datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                        value.microsecond, helpers.utc)
    if isinstance(value, datetime):
        return value.replace(tzinfo=helpers.utc)
    if isinstance(value, dict):
        return {k: _returned(v) for k, v in value.items()}
    return mongomock_collection._copy_field(value, dict)


_plain_patch = helpers.patch_datetime_awareness_in_document


def _patched(value):
    """mongomock's patch_datetime_awareness_in_document (what every stored document and filter goes through),
    with the common JSON types first: the same result, without a generator per dict."""
    kind = type(value)
    if kind is dict:
        return {k: _patched(v) for k, v in value.items()}
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is list or kind is tuple:
        return [_patched(v) for v in value]
    if kind is datetime:
        return _stored_instant(value)
    return _plain_patch(value)      # OrderedDicts, Timestamps and the rest: mongomock's own rules


# the stored form of the UTC datetimes met lately: a trace holds one instant at several places (its recorded time,
# the lower bound of its date and _lastUpdated values) and the traces of one millisecond hold the same ones. Only
# timezone.utc's: two equal datetimes of one zone with a DST fold are equal whatever their fold, not one instant.
# A bound, then it starts afresh
_STORED_INSTANTS: dict[datetime, datetime] = {}
MAX_STORED_INSTANTS = 4_096


def _stored_instant(value: datetime) -> datetime:
    """A datetime as mongomock stores it: naive UTC, milliseconds."""
    if value.tzinfo is not timezone.utc:
        return _stored_form(value)
    stored = _STORED_INSTANTS.get(value)      # one lookup: another thread may start afresh meanwhile
    if stored is None:
        if len(_STORED_INSTANTS) >= MAX_STORED_INSTANTS:
            _STORED_INSTANTS.clear()
        stored = _STORED_INSTANTS[value] = _stored_form(value)
    return stored


def _stored_form(value: datetime) -> datetime:
    """Built by the constructor, which takes a third of `replace`'s time."""
    if value.tzinfo is not None:
        offset = value.utcoffset()
        if offset:                  # the server's own are UTC already
            value = value - offset
    elif value.microsecond % 1000 == 0:
        return value                # stored already (a container checked before holds it)
    return datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                    value.microsecond // 1000 * 1000)


class _NotPlain(Exception):
    """A document the plain insert does not take: mongomock's own insert checks it and says what is wrong."""


# BSON is at most 6.5 times as long as the JSON of the same document (an array of one-digit numbers, each with its
# index as key): JSON up to this size cannot reach MongoDB's 16 MiB limit
_PLAIN_JSON_BYTES = 2 * 1024 * 1024
_INT64 = range(-2 ** 63, 2 ** 63)


def _plain_stored(value):
    """What mongomock's insert stores for a document of JSON values and datetimes (_patched's copy), checking
    what its BSON encoding would refuse: a key that is not a string or holds NUL, an integer beyond 64 bits, a
    value of another type. Raises _NotPlain on any of them. (Strings, the most of a document, are taken where
    they are found rather than in a call of their own.)"""
    kind = type(value)
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str or "\0" in key:
                raise _NotPlain
            out[key] = item if type(item) is str else _plain_stored(item)
        return out
    if kind is str or kind is float or kind is bool or value is None:
        return value
    if kind is list:
        return [item if type(item) is str else _plain_stored(item) for item in value]
    if kind is int:
        if value not in _INT64:
            raise _NotPlain
        return value
    if kind is datetime:
        return _patched(value)
    raise _NotPlain


def _plain_insert(collection, data: dict):
    """mongomock's insert of one document, for the documents the server writes (JSON and datetimes): one pass that
    checks and copies, where mongomock walks the document three times (null characters in keys, a BSON encoding,
    the datetime copy). None when the document is not plain: mongomock's insert then takes it as before."""
    if _operator_keys(data):
        return None
    try:
        stored = _plain_stored(data)
        if len(orjson.dumps(stored)) > _PLAIN_JSON_BYTES:
            return None
    except (_NotPlain, TypeError, orjson.JSONEncodeError):
        return None
    if "_id" not in data:
        return None                  # mongomock gives it an ObjectId, in the caller's dict too
    object_id = stored["_id"]
    if not isinstance(object_id, Hashable):
        return None
    if object_id in collection._store:
        raise mongomock.DuplicateKeyError("E11000 Duplicate Key Error", 11000)
    collection._store[object_id] = stored
    try:
        collection._ensure_uniques(stored)
    except mongomock.DuplicateKeyError:
        del collection._store[object_id]
        raise
    collection._store.plain.add(object_id)
    return object_id


def _plain_in_place(value, checked: dict) -> None:
    """_plain_stored's checks on a document kept as it is: raises _NotPlain where _plain_stored would, and makes
    its datetimes what mongomock stores (naive UTC, milliseconds) in place. Containers in `checked` passed these
    checks in an earlier document and are not walked again."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or "\0" in key:
                raise _NotPlain
            if type(item) is not str:
                if type(item) is datetime:
                    value[key] = _stored_instant(item)      # an existing key: the dict does not change size
                elif id(item) not in checked:
                    _plain_in_place(item, checked)
    elif kind is list:
        for position, item in enumerate(value):
            if type(item) is datetime:
                value[position] = _stored_instant(item)
            elif type(item) is not str and id(item) not in checked:
                _plain_in_place(item, checked)
    elif kind is int:
        if value not in _INT64:
            raise _NotPlain
    elif not (kind is str or kind is float or kind is bool or value is None):
        raise _NotPlain


# containers checked as plain and handed over again and again (insert_handed_over's `reused`), held so that their
# ids stay theirs; a bound, then they are checked once more
MAX_CHECKED = 20_000


def insert_handed_over(collection, data: dict, reused=()):
    """Store `data` itself, not a copy: for a caller that hands a plain document over and never touches it again
    (the audit writer, whose traces share the index values it memoises and the parts they have in common).
    Checked as the plain insert checks; any other document goes through insert_one. Stored documents are only ever
    changed in place by an update, which first gives the document subtrees of its own (`shared`, install's
    apply_update_document), and every answer is a copy: sharing stays invisible.
    `reused`: containers inside `data` that the caller will hand over again in later documents, never changed:
    once checked here they are not walked again."""
    store = collection._store
    object_id = data.get("_id")
    plain = type(data) is dict and isinstance(store, IndexedCollectionStore) and type(object_id) is str \
        and collection.codec_options.tz_aware and not _operator_keys(data)
    if plain:
        try:
            _plain_in_place(data, store.checked)
            plain = len(orjson.dumps(data)) <= _PLAIN_JSON_BYTES
        except (_NotPlain, TypeError, orjson.JSONEncodeError):
            plain = False
    if not plain:
        return collection.insert_one(data).inserted_id
    _checked(store, reused)
    if object_id in store._documents:        # under the store's lock (storage/CONCURRENCY.md), no TTL index
        raise mongomock.DuplicateKeyError("E11000 Duplicate Key Error", 11000)
    store[object_id] = data
    try:
        collection._ensure_uniques(data)
    except mongomock.DuplicateKeyError:
        del store[object_id]
        raise
    store.shared.add(object_id)
    store.plain.add(object_id)
    return object_id


def _operator_keys(data: dict) -> bool:
    """Whether a top-level key is an operator's ($...), which mongomock's insert refuses."""
    for key in data:
        if type(key) is str and key[:1] == "$":
            return True
    return False


def _checked(store: "IndexedCollectionStore", containers) -> None:
    if len(store.checked) + len(containers) > MAX_CHECKED:
        store.checked.clear()
    for container in containers:
        if type(container) in (dict, list):
            store.checked[id(container)] = container


def _private(value):
    """A copy of a stored value's containers, its leaves shared (they are immutable)."""
    kind = type(value)
    if kind is dict:
        return {k: _private(v) for k, v in value.items()}
    if kind is list:
        return [_private(v) for v in value]
    return value


def client() -> mongomock.MongoClient:
    install()
    return mongomock.MongoClient(tz_aware=True, _store=IndexedServerStore())


_NOT_POINT = object()


def _point_read(collection, filter, args: tuple, kwargs: dict):
    """find_one({"_id": id}) with no projection or a top-level one (a read, the policy's look at a document): the
    stored document itself is the only candidate, so it is looked up and copied as the cursor would copy it,
    without a cursor. _NOT_POINT for any other call."""
    store = collection._store
    if type(filter) is not dict or len(filter) != 1 or type(filter.get("_id")) is not str \
            or not isinstance(store, IndexedCollectionStore) or not collection.codec_options.tz_aware:
        return _NOT_POINT
    projection = args[0] if args else kwargs.get("projection")
    if len(args) > 1 or kwargs.get("session") is not None or any(k not in ("projection", "session") for k in kwargs):
        return _NOT_POINT
    plain = None if projection is None else _top_level(projection)
    if projection is not None and plain is None:
        return _NOT_POINT
    doc = store._documents.get(filter["_id"])
    if doc is None:
        return None
    return _copy_of(store, doc) if plain is None else _projected(store, doc, *plain)


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    Collection = mongomock_collection.Collection
    scan = Collection._iter_documents
    apply_update = Collection._apply_update_document
    plain_find = Collection.find

    def find(self, *args, **kwargs):
        cursor = plain_find(self, *args, **kwargs)
        if isinstance(self._store, IndexedCollectionStore) and self.codec_options.tz_aware:
            cursor.__class__ = IndexedCursor     # same state; only the way results are computed differs
        return cursor

    def iter_documents(self, filter):
        store = self._store
        narrowed = store.candidates(filter) if isinstance(store, IndexedCollectionStore) else None
        if narrowed is None:
            return scan(self, filter)
        return (doc for doc in narrowed if filter_applies(filter, doc))

    def apply_update_document(self, existing_document, *args, **kwargs):
        store = self._store
        if not isinstance(store, IndexedCollectionStore):
            return apply_update(self, existing_document, *args, **kwargs)
        store.unindex(existing_document)     # updated in place: no __setitem__ tells the store
        key = _key_of(existing_document)
        store.plain.discard(key)             # an update may store any value
        if key in store.shared:              # its subtrees may be another document's too
            for field, value in existing_document.items():
                existing_document[field] = _private(value)
            store.shared.discard(key)
        try:
            return apply_update(self, existing_document, *args, **kwargs)
        finally:
            store.index(existing_document)
            store.version += 1

    plain_find_one = Collection.find_one

    def find_one(self, filter=None, *args, **kwargs):
        found = _point_read(self, filter, args, kwargs)
        return plain_find_one(self, filter, *args, **kwargs) if found is _NOT_POINT else found

    plain_insert = Collection._insert

    def insert(self, data, session=None, ordered=True):
        if session is None and type(data) is dict and isinstance(self._store, IndexedCollectionStore):
            inserted = _plain_insert(self, data)
            if inserted is not None:
                return inserted
        return plain_insert(self, data, session, ordered)

    Collection._insert = insert
    Collection._iter_documents = iter_documents
    Collection._apply_update_document = apply_update_document
    Collection.find = find
    Collection.find_one = find_one
    helpers.patch_datetime_awareness_in_document = _patched
    Database = mongomock.database.Database
    plain_getitem = Database.__getitem__

    def collection_of(self, name):
        # mongomock builds a new Collection object (with_options) on every db[name]
        if isinstance(self._store, IndexedDatabaseStore) and name in self._collection_accesses:
            return self._collection_accesses[name]
        return plain_getitem(self, name)

    Database.__getitem__ = collection_of
    _installed = True
