"""The embedded store's hash indexes and cursors (storage/embedded.py) change how answers are computed, never what
they are: every query answers exactly what plain mongomock answers (the same documents, values, types and order,
sorted, skipped, limited and projected), after inserts, replaces, in-place updates and deletes."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import mongomock
import pytest

from fhir_server.storage import embedded

PATIENTS = ["pat-a", "pat-b", "pat-c"]


def _doc(i: int, rng: random.Random) -> dict:
    doc = {"_id": f"r{i}", "v": rng.choice([1, 2, 2.0]), "deleted": rng.choice([True, False]),
           "_acl": {"patients": rng.sample(PATIENTS, rng.randint(0, 2)), "labels": rng.choice([[], ["MASQUE_PS"]])},
           "_idx": {"code": [{"sys": "loinc", "code": rng.choice(["a", "b"])}, {"code": rng.choice(["b", "c"])}],
                    "nested": rng.choice([[["x"]], ["x"], "x", {"x": 1}, None]), "n": rng.randint(0, 3)}}
    if rng.random() < 0.3:
        del doc["_acl"]
    if rng.random() < 0.5:
        doc["lu"] = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=rng.randint(0, 50), microseconds=7)
        doc["res"] = {"when": [doc["lu"], {"at": doc["lu"]}], "t": (1, "x"), "b": b"raw"}
    return doc


FILTERS = [
    {"_id": "r3"}, {"_id": {"$in": ["r1", "r5", "nope"]}}, {"_id": "r3", "deleted": True},
    {"_acl.patients": "pat-a"}, {"_acl.patients": {"$in": ["pat-b", "pat-c"]}, "deleted": False},
    {"$and": [{"_acl.patients": "pat-a"}, {"_idx.n": {"$gte": 2}}]},
    {"$or": [{"_acl.patients": "pat-c"}, {"_id": "r2"}]}, {"$or": [{"_acl.patients": "pat-c"}, {"v": {"$gt": 1}}]},
    {"_idx.code.code": "b"}, {"_idx.code.sys": "loinc", "_idx.code.code": "c"},
    {"_idx.code": {"$elemMatch": {"sys": "loinc", "code": "a"}}}, {"_idx.nested": "x"}, {"_idx.nested.x": 1},
    {"v": 2}, {"v": {"$eq": 1}}, {"deleted": False}, {"deleted": 0}, {"_acl.labels": "MASQUE_PS"},
    {"_acl.patients": None}, {"_acl": {"$exists": False}}, {"_idx.code.0.code": "a"}, {},
]


@pytest.fixture(scope="module")
def stores():
    rng = random.Random(7)
    plain = mongomock.MongoClient(tz_aware=True)["db"]["c"]
    indexed = embedded.client()["db"]["c"]
    docs = [_doc(i, rng) for i in range(300)]
    for coll in (plain, indexed):
        coll.insert_many([dict(d) for d in docs])
        for f in FILTERS[:5]:
            list(coll.find(f))          # build some indexes before the writes below, some after
        coll.find_one_and_replace({"_id": "r10"}, {**docs[11], "_id": "r10"})
        coll.replace_one({"_id": "r12"}, {"_id": "r12", "v": 2, "_acl": {"patients": ["pat-c"]}})
        coll.update_one({"_id": "r13"}, {"$set": {"_acl.patients": ["pat-a", "pat-c"]}})
        coll.update_many({"_acl.patients": "pat-b"}, {"$set": {"deleted": True}})
        coll.delete_one({"_id": "r14"})
        coll.delete_many({"_idx.n": 3, "deleted": False})
        coll.insert_one({"_id": "r14", "_acl": {"patients": ["pat-a"]}})
    return plain, indexed


@pytest.mark.parametrize("filter", FILTERS, ids=str)
def test_indexed_embedded_store_answers_like_mongomock(stores, filter):
    plain, indexed = stores
    assert [d["_id"] for d in indexed.find(filter)] == [d["_id"] for d in plain.find(filter)]
    assert indexed.count_documents(filter) == plain.count_documents(filter)


def test_a_point_read_evaluates_one_document_not_the_collection(stores):
    _, indexed = stores
    candidates = indexed._store.candidates({"_id": "r3", "deleted": False})
    assert [d["_id"] for d in candidates] == ["r3"]


def test_a_patient_scoped_query_evaluates_only_that_patients_documents(stores):
    _, indexed = stores
    candidates = indexed._store.candidates({"$and": [{"deleted": False}, {"_acl.patients": "pat-a"}]})
    assert candidates and all("pat-a" in d["_acl"]["patients"] for d in candidates)
    assert len(candidates) < indexed.count_documents({})


CURSORS = [  # (filter, projection, sort, skip, limit)
    ({}, None, None, 0, 0), ({"_acl.patients": "pat-a"}, None, [("lu", -1), ("_id", 1)], 0, 1),
    ({"deleted": False}, None, [("_idx.n", 1)], 3, 5), ({}, {"_acl.patients": 1}, [("v", -1), ("_id", -1)], 0, 0),
    ({"_acl.patients": {"$in": ["pat-b", "pat-c"]}}, {"_idx": 0, "res": 0}, None, 2, 0),
    ({"lu": {"$gte": datetime(2026, 1, 1, 0, 20, tzinfo=timezone.utc)}}, {"lu": 1, "res.when": 1}, [("lu", 1)], 0, 4),
    ({"_id": "r3"}, {"_chain": 0}, None, 0, -1), ({}, None, [("$natural", -1)], 0, 7),
]


@pytest.mark.parametrize("filter, projection, sort, skip, limit", CURSORS, ids=str)
def test_indexed_cursors_return_what_mongomock_returns(stores, filter, projection, sort, skip, limit):
    def answer(coll):
        cursor = coll.find(filter, projection).skip(skip).limit(limit)
        return list(cursor.sort(sort) if sort else cursor)

    plain, indexed = stores
    expected, got = answer(plain), answer(indexed)
    assert got == expected
    assert [_types(d) for d in got] == [_types(d) for d in expected]     # aware datetimes, lists for tuples
    assert indexed.find_one(filter, projection) == plain.find_one(filter, projection)


def _types(value):
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return (type(value).__name__, value.tzinfo is not None) if isinstance(value, datetime) else type(value).__name__


def test_an_answer_is_the_callers_copy_not_the_stored_document(stores):
    _, indexed = stores
    dated = {"_id": {"$in": [d["_id"] for d in indexed.find({"res": {"$exists": True}})]}}
    first = indexed.find_one(dated)
    first["res"]["when"][1]["at"] = "changed"
    first["_acl"] = {"patients": ["pat-z"]}
    again = indexed.find_one(dated)
    assert again["res"]["when"][1]["at"] != "changed" and again.get("_acl") != {"patients": ["pat-z"]}
    assert indexed.count_documents({"_acl.patients": "pat-z"}) == 0


def test_stored_documents_are_patched_as_mongomock_patches_them():
    from collections import OrderedDict
    paris = timezone(timedelta(hours=1))
    value = {"a": [1, 2.5, True, None, "s", (3, datetime(2026, 5, 1, 12, 0, 0, 123456))],
             "b": OrderedDict(c=datetime(2026, 5, 1, 12, 0, 0, 999999, tzinfo=paris)), "d": {"e": [{"f": b"x"}]}}
    assert embedded._patched(value) == embedded._plain_patch(value)
    assert _types(embedded._patched(value)) == _types(embedded._plain_patch(value))
    assert type(embedded._patched(value)["b"]) is OrderedDict


def test_answers_copy_every_value_as_mongomock_does_whatever_wrote_it():
    import math

    class Tag(str):
        pass
    plain = mongomock.MongoClient(tz_aware=True)["db"]["copies"]
    indexed = embedded.client()["db"]["copies"]
    special = {"nan": float("nan"), "inf": [float("-inf")], "none": None, "text": "null", "neg": -0.0,
               "big": 2 ** 63 - 1, "float": 1e300, "nul": "a\0b", "deep": [[{"x": [1.5, True]}]]}
    for coll in (plain, indexed):
        coll.insert_one({"_id": "json", "res": special, "lu": datetime(2026, 5, 1, tzinfo=timezone.utc)})
        coll.insert_one({"_id": "replaced", "res": {"a": 1}})
        coll.replace_one({"_id": "replaced"}, {"res": {"t": (1, "x"), "u": Tag("x")}})
        coll.insert_one({"_id": "updated", "res": {"a": 1}})
        coll.update_one({"_id": "updated"}, {"$set": {"res.t": (2, "y"), "res.u": Tag("y")}})
        embedded.insert_handed_over(coll, {"_id": "kept", "res": {"a": [1, {"b": "c"}]}}) if coll is indexed \
            else coll.insert_one({"_id": "kept", "res": {"a": [1, {"b": "c"}]}})
    for query, projection in [({}, None), ({"_id": "json"}, None), ({"_id": "json"}, {"res": 1}),
                              ({"_id": "replaced"}, None), ({"_id": "updated"}, {"lu": 0}), ({"_id": "kept"}, None)]:
        got, expected = list(indexed.find(query, projection)), list(plain.find(query, projection))
        assert repr(got) == repr(expected) and _types(got) == _types(expected), query
        assert indexed.find_one(query, projection) is not None
        assert repr(indexed.find_one(query, projection)) == repr(plain.find_one(query, projection))
    assert math.isnan(indexed.find_one({"_id": "json"})["res"]["nan"])


def test_datetimes_are_stored_and_returned_as_mongomock_stores_and_returns_them(monkeypatch):
    from zoneinfo import ZoneInfo
    monkeypatch.setattr(embedded, "MAX_STORED_INSTANTS", 64)      # the remembered stored forms start afresh too
    rng, zones = random.Random(3), [None, timezone.utc, _PARIS, timezone(timedelta(hours=-9, minutes=-30)),
                                    ZoneInfo("Europe/Paris")]
    instants = [datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Paris")), datetime(1, 1, 2),
                datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=ZoneInfo("Europe/Paris")),
                datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=timezone.utc), datetime(9999, 12, 31, 23, 59, 59, 999999)]
    for _ in range(2000):
        instant = datetime(rng.randint(1900, 2100), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                           rng.randint(0, 59), rng.randint(0, 59), rng.choice([0, 123000, rng.randint(0, 999999)]))
        instants.append(instant.replace(tzinfo=rng.choice(zones)))
    for instant in instants + instants[::-1] + rng.sample(instants, len(instants)):     # met again: remembered
        stored = embedded._patched(instant)
        assert (stored, stored.tzinfo, stored.fold) == (embedded._plain_patch(instant), None, 0), instant
        returned = embedded._returned(stored)
        expected = mongomock.helpers.make_datetime_timezone_aware_in_document(stored)
        assert (returned, returned.utcoffset(), returned.tzinfo) == (expected, timedelta(0), expected.tzinfo)


@pytest.mark.parametrize("projection", [{"res": 1}, {"res": 1, "_acl": 1}, {"_idx": 0, "_chain": 0}, {"_id": 1},
                                        {"_id": 0, "res": 1}, {"res": 0, "_id": 0}, {"nope": 1}, {"_acl": True},
                                        {"v": 1, "_id": 1}, {"_idx": 0}, {"res": 1.0}, {"res": 1, "x": 1.0}], ids=str)
def test_projections_keep_mongomocks_keys_values_and_order(stores, projection):
    plain, indexed = stores
    expected, got = list(plain.find({}, projection)), list(indexed.find({}, projection))
    assert [list(d.items()) for d in got] == [list(d.items()) for d in expected]
    assert [_types(d) for d in got] == [_types(d) for d in expected]


_PARIS = timezone(timedelta(hours=1))
INSERTED = [
    {"_id": "plain", "res": {"a": [1, 2.5, True, None, "s", {"b": []}], "c": {}}, "v": 2 ** 63 - 1, "w": -2 ** 63},
    {"_id": "dated", "lu": datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=_PARIS), "naive": datetime(2026, 5, 1),
     "r": [{"lo": datetime(2026, 5, 1, 23, 59, 59, 999999, tzinfo=timezone.utc)}]},
    {"_id": "tuple", "t": (1, "x")}, {"_id": "bytes", "b": b"raw"},
    {"_id": "big", "n": 2 ** 63}, {"_id": "small", "n": [-2 ** 63 - 1]},
    {"_id": "nul", "a": [{"k\0": 1}]}, {"_id": "nul-top", "k\0": 1}, {"_id": "int-key", "a": {1: "x"}},
    {"_id": "dollar", "$set": 1}, {"_id": "dollar-nested", "a": {"$b": 1}}, {"_id": "dotted", "a.b": 1},
    {"no-id": True}, {"_id": {"composite": 1}, "x": 1}, {"_id": 7, "x": "numeric id"},
    {"_id": "plain", "again": True},           # a duplicate of the first
]


def _insert_outcome(coll, doc: dict, insert=lambda coll, doc: coll.insert_one(doc)):
    mine = dict(doc)
    try:
        insert(coll, mine)
    except Exception as error:  # noqa: BLE001 - the kind of refusal is what is compared
        return type(error).__name__, None, None
    stored = coll.find_one({"_id": mine["_id"]})
    return "stored", type(mine["_id"]).__name__, (_types(stored), stored if "no-id" not in doc else None)


@pytest.mark.parametrize("insert", [lambda coll, doc: coll.insert_one(doc), embedded.insert_handed_over],
                         ids=["insert_one", "handed_over"])
def test_inserts_store_and_refuse_exactly_what_mongomocks_insert_does(insert):
    plain = mongomock.MongoClient(tz_aware=True)["db"]["ins"]
    indexed = embedded.client()["db"]["ins"]
    for coll in (plain, indexed):
        coll.create_index([("x", 1)], unique=True)
    for doc in INSERTED + [{"_id": "unique-x", "x": 1}]:      # x: 1 is taken by the composite-id document
        assert _insert_outcome(indexed, doc, insert) == _insert_outcome(plain, doc), doc
    assert indexed.count_documents({}) == plain.count_documents({})


def test_a_plain_insert_is_the_stores_own_copy_and_the_rest_is_mongomocks(monkeypatch):
    taken = []
    plain_insert = embedded._plain_insert
    monkeypatch.setattr(embedded, "_plain_insert", lambda coll, data: taken.append(data["_id"]) or plain_insert(coll, data))
    indexed = embedded.client()["db"]["own"]
    doc = {"_id": "a", "res": {"name": [{"given": ["x"]}]}, "lu": datetime(2026, 5, 1, tzinfo=timezone.utc)}
    indexed.insert_one(doc)
    doc["res"]["name"][0]["given"].append("changed")
    assert indexed.find_one({"_id": "a"})["res"] == {"name": [{"given": ["x"]}]}
    indexed.insert_one({"_id": "b", "t": (1, 2)})
    assert taken == ["a", "b"] and indexed.find_one({"_id": "b"})["t"] == [1, 2]     # b: stored by mongomock


def test_a_handed_over_document_is_kept_itself_and_answers_are_copies():
    indexed = embedded.client()["db"]["kept"]
    doc = {"_id": "a", "lu": datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=_PARIS), "res": {"when": [{"b": 1}]}}
    embedded.insert_handed_over(indexed, doc)
    assert indexed._store._documents["a"] is doc and "a" in indexed._store.shared
    assert doc["lu"] == datetime(2026, 5, 1, 11, 0, 0, 123000)          # patched in place: naive UTC, milliseconds
    answer = indexed.find_one({"_id": "a"})
    answer["res"]["when"][0]["b"] = 2
    assert doc["res"]["when"][0]["b"] == 1 and indexed.count_documents({"res.when.b": 1}) == 1


def test_an_update_of_a_handed_over_document_leaves_documents_sharing_its_values_alone():
    indexed = embedded.client()["db"]["shared"]
    common = {"entity": [{"what": "Patient/p"}], "tags": ["t"]}
    embedded.insert_handed_over(indexed, {"_id": "a", "idx": common})
    embedded.insert_handed_over(indexed, {"_id": "b", "idx": common})
    indexed.update_one({"_id": "a"}, {"$set": {"idx.entity.0.what": "Patient/q"}, "$push": {"idx.tags": "u"}})
    assert indexed.find_one({"_id": "b"})["idx"] == {"entity": [{"what": "Patient/p"}], "tags": ["t"]}
    assert indexed.find_one({"_id": "a"})["idx"] == {"entity": [{"what": "Patient/q"}], "tags": ["t", "u"]}
    assert [d["_id"] for d in indexed.find({"idx.entity.what": "Patient/p"})] == ["b"]
    assert "a" not in indexed._store.shared and "b" in indexed._store.shared
    indexed.replace_one({"_id": "b"}, {"_id": "b", "idx": {"tags": []}})
    assert "b" not in indexed._store.shared and common == {"entity": [{"what": "Patient/p"}], "tags": ["t"]}


POINT_PROJECTIONS = [None, {"res": 1}, {"_idx": 0, "_chain": 0}, {"res": 0, "_id": 0}, {"_id": 1}, {"_idx.n": 1},
                     {"res": 1, "_acl": 1}, {"res": 1, "_acl": 0}]


@pytest.mark.parametrize("projection", POINT_PROJECTIONS, ids=str)
def test_a_point_read_answers_like_mongomocks_find_one(stores, projection):
    plain, indexed = stores
    for id_ in ("r3", "r10", "r12", "r14", "r299", "nope", "r1"):
        try:
            expected = plain.find_one({"_id": id_}, projection)
        except ValueError as refused:           # mongomock refuses a mixed projection: so must the point read
            with pytest.raises(ValueError, match=str(refused)):
                indexed.find_one({"_id": id_}, projection)
            continue
        got = indexed.find_one({"_id": id_}, projection)
        assert got == expected and (got is None or list(got) == list(expected)), id_
        assert _types(got) == _types(expected) if got is not None else True
        assert indexed.find_one({"_id": id_}, projection=projection) == expected


def test_a_point_read_is_the_callers_copy():
    indexed = embedded.client()["db"]["point"]
    indexed.insert_one({"_id": "a", "res": {"given": ["x"]}, "lu": datetime(2026, 5, 1, tzinfo=timezone.utc)})
    first = indexed.find_one({"_id": "a"})
    first["res"]["given"].append("changed")
    assert indexed.find_one({"_id": "a"})["res"] == {"given": ["x"]}
    assert indexed.find_one({"_id": "a"})["lu"] == datetime(2026, 5, 1, tzinfo=timezone.utc)


def test_a_reused_container_is_checked_once_and_only_once_it_passed(monkeypatch):
    indexed = embedded.client()["db"]["reused"]
    common = {"agent": [{"who": "Device/d"}], "at": datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=_PARIS)}
    walked = []
    walk = embedded._plain_in_place
    monkeypatch.setattr(embedded, "_plain_in_place", lambda value, checked: walked.append(id(value)) or walk(value, checked))
    embedded.insert_handed_over(indexed, {"_id": "a", "res": common}, [common])
    assert id(common) in walked and common["at"] == datetime(2026, 5, 1, 11, 0, 0, 123000)   # checked, patched
    walked.clear()
    embedded.insert_handed_over(indexed, {"_id": "b", "res": common}, [common])
    assert id(common) not in walked and walked                       # the rest of b was walked, not common
    bad = {"t": (1, 2)}                                              # not plain: mongomock's insert copies it
    embedded.insert_handed_over(indexed, {"_id": "c", "res": bad}, [bad])
    assert id(bad) not in indexed._store.checked and indexed.find_one({"_id": "c"})["res"] == {"t": [1, 2]}
    assert [d["res"] for d in indexed.find({"_id": {"$in": ["a", "b"]}})] == \
        [{"agent": [{"who": "Device/d"}], "at": datetime(2026, 5, 1, 11, 0, 0, 123000, tzinfo=timezone.utc)}] * 2


def test_the_checked_containers_are_bounded(monkeypatch):
    monkeypatch.setattr(embedded, "MAX_CHECKED", 3)
    indexed = embedded.client()["db"]["bounded"]
    for i in range(10):
        parts = [{"n": i}, [i]]
        embedded.insert_handed_over(indexed, {"_id": f"d{i}", "a": parts[0], "b": parts[1]}, parts)
        assert 0 < len(indexed._store.checked) <= 3 and id(parts[0]) in indexed._store.checked
