"""Inserting server documents in one round-trip: in order, the first taken key stops the rest (a Conflict that
says how many went in), and a unit that rolls back takes the inserted ones with it."""

from __future__ import annotations

import pytest

from fhir_server.errors import Conflict

COLLECTION = "batch_test"


@pytest.mark.parametrize("handed_over", [False, True])
def test_the_first_taken_key_stops_the_batch_and_says_how_many_went_in(store, handed_over):
    store.insert(COLLECTION, {"_id": "taken", "n": 0})
    docs = [{"_id": "a", "n": 1}, {"_id": "b", "n": 2}, {"_id": "taken", "n": 3}, {"_id": "c", "n": 4}]
    with pytest.raises(Conflict) as refused:
        store.insert_many(COLLECTION, docs, handed_over=handed_over)
    assert refused.value.stored == 2 and "taken" in refused.value.outcome()["issue"][0]["diagnostics"]
    assert {d["_id"]: d["n"] for d in store.find(COLLECTION, {})} == {"taken": 0, "a": 1, "b": 2}


@pytest.mark.parametrize("handed_over", [False, True])
def test_a_batch_is_stored_whole_and_undone_with_its_unit(store, handed_over):
    with store.unit_of_work() as uow:
        store.insert_many(COLLECTION, [{"_id": "a"}, {"_id": "b"}], uow, handed_over=handed_over)
    assert sorted(d["_id"] for d in store.find(COLLECTION, {})) == ["a", "b"]
    with pytest.raises(RuntimeError):
        with store.unit_of_work() as uow:
            store.insert_many(COLLECTION, [{"_id": "c"}, {"_id": "d"}], uow, handed_over=handed_over)
            raise RuntimeError("the unit's body fails after the batch")
    assert sorted(d["_id"] for d in store.find(COLLECTION, {})) == ["a", "b"]
