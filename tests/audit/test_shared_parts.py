"""Traces hold their common parts once (audit/shared_parts.py): each trace stays equal to the one built for it, its
varying places stay its own, and the stored traces answer exactly as unshared ones would."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import orjson
import pytest

from fhir_server.audit.balp import VARYING
from fhir_server.audit.shared_parts import SharedParts
from fhir_server.audit.writer import COLLECTION, AuditWriter, verify
from fhir_server.search.index import IndexMemo

from .test_index_memo import _events


@pytest.mark.parametrize("by_rest", [False, True], ids=["part by part", "from the first trace of the same rest"])
def test_a_shared_trace_is_equal_to_the_one_built_and_shares_only_outside_the_varying_places(by_rest):
    parts, memo, events = SharedParts(VARYING), IndexMemo(VARYING), _events()
    shared_events = []
    for event in events + copy.deepcopy(events):      # the second time, every rest has been seen
        built = copy.deepcopy(event)
        found = parts.share(event, memo.rest(event) if by_rest else None)
        assert event == built and orjson.dumps(event) == orjson.dumps(built)
        assert all(type(part) in (dict, list) for part in found)
        assert all(any(part is held for held in _containers(event)) for part in found)
        shared_events.append((event, found))
    first, second = shared_events[0][0], shared_events[1][0]
    assert first["agent"] is second["agent"] and first["source"] is second["source"]
    assert first["entity"] is not second["entity"]          # the entities name the request: each trace's own
    assert first["entity"][0]["role"] is second["entity"][0]["role"]      # but their roles are shared
    assert first["meta"] is not second["meta"] and first["meta"]["profile"] is second["meta"]["profile"]


def _containers(value):
    if type(value) in (dict, list):
        yield value
        for item in value.values() if type(value) is dict else value:
            yield from _containers(item)


def test_a_rest_seen_before_gives_the_new_trace_the_first_ones_parts_and_keeps_its_varying_places():
    parts, memo = SharedParts(VARYING), IndexMemo(VARYING)
    first, second = _events()[0], _events()[0]
    second["id"], second["entity"][-1]["what"] = "ae-other", {"identifier": {"value": "req-other"}}
    assert memo.rest(first) == memo.rest(second)
    parts.share(first, memo.rest(first))
    parts.share(second, memo.rest(second))
    assert second["agent"] is first["agent"] and second["entity"][0]["type"] is first["entity"][0]["type"]
    assert second["id"] == "ae-other" and second["entity"][-1]["what"] == {"identifier": {"value": "req-other"}}
    assert first["entity"][-1]["what"]["identifier"]["value"] != "req-other"


def test_a_rest_holding_a_datetime_has_no_key():
    assert IndexMemo(VARYING).rest({"resourceType": "AuditEvent", "x": datetime(2026, 1, 1)}) is None


def test_parts_that_differ_are_not_shared_and_datetimes_never_are():
    parts = SharedParts(VARYING)
    a = {"agent": [{"who": {"reference": "Practitioner/p1"}}], "x": {"at": datetime(2026, 1, 1, tzinfo=timezone.utc)}}
    b = {"agent": [{"who": {"reference": "Practitioner/p2"}}], "x": {"at": "2026-01-01T00:00:00+00:00"}}
    parts.share(a)
    parts.share(b)
    assert b["agent"][0]["who"]["reference"] == "Practitioner/p2" and b["x"]["at"] == "2026-01-01T00:00:00+00:00"
    assert type(a["x"]["at"]) is datetime


def test_stored_traces_share_parts_and_answer_as_their_own(store):
    writer = AuditWriter(store)
    recorded = datetime(2026, 12, 1, tzinfo=timezone.utc)
    events = [event for event in _events() if "pat-a" in orjson.dumps(event["entity"]).decode()][:40]
    for event in events:
        writer.append(copy.deepcopy(event), {"patients": ["pat-a"], "agent": "Practitioner/p1", "docs": []}, recorded)
    stored = store.find(COLLECTION, {"_chain.key": "pat-a"}, sort=[("_chain.seq", 1)])
    assert [d["res"]["agent"] for d in stored] == [e["agent"] for e in events]
    assert [d["res"]["entity"] for d in stored] == [e["entity"] for e in events]
    if store.embedded:      # kept as handed over: the stored traces hold one source between them
        kept = store.db[COLLECTION]._store._documents
        assert kept[stored[0]["_id"]]["res"]["source"] is kept[stored[1]["_id"]]["res"]["source"]
    stored[0]["res"]["source"]["observer"]["display"] = "changed by a reader"
    assert store.find(COLLECTION, {"_id": stored[1]["_id"]})[0]["res"]["source"] == events[1]["source"]
    store.db[COLLECTION].update_one({"_id": stored[0]["_id"]}, {"$set": {"res.source.observer.display": "edited"}})
    assert store.find(COLLECTION, {"_id": stored[1]["_id"]})[0]["res"]["source"] == events[1]["source"]
    assert verify(store)[1][0].trace_id == stored[0]["_id"]     # the edit breaks the chain where it was made
