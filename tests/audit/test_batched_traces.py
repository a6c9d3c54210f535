"""The traces of one interaction are stored in one insert (one round-trip to the database, however many patients
it touched), and a chain another process extended meanwhile is read again without losing or breaking anything."""

from __future__ import annotations

from fhir_server.audit.writer import COLLECTION, verify

from ..stores import requires
from .traces import chain, send, stored_traces

LEFEBVRE = "Practitioner/pra-antoine-lefebvre"


def _spy_inserts(store, monkeypatch) -> list[int]:
    """The number of traces each insert into the AuditEvent collection carried."""
    sizes: list[int] = []
    insert_many = store.insert_many

    def counted(collection, docs, uow=None, **kwargs):
        if collection == COLLECTION:
            sizes.append(len(docs))
        return insert_many(collection, docs, uow, **kwargs)
    monkeypatch.setattr(store, "insert_many", counted)
    return sizes


def test_a_search_across_several_records_stores_its_traces_in_one_insert(seeded, as_actor, monkeypatch):
    sizes = _spy_inserts(seeded, monkeypatch)
    response, rid = send(as_actor(LEFEBVRE), "GET", "DocumentReference?status=current&_count=50")
    assert response.status_code == 200
    patients = {d["_chain"]["key"] for d in stored_traces(seeded, rid)}
    assert len(patients) >= 3                        # several records: one trace in each patient's chain
    assert sizes == [len(stored_traces(seeded, rid))]
    assert verify(seeded)[1] == []


def test_a_refused_request_stores_its_trace_in_one_insert_too(seeded, as_actor, monkeypatch):
    sizes = _spy_inserts(seeded, monkeypatch)
    response, _ = send(as_actor("Practitioner/pra-yann-le-gall"), "GET", "Patient/pat-claire-martin")
    assert response.status_code in (403, 404)
    assert sizes == [1]


@requires("shared_store")
def test_a_chain_extended_by_another_process_is_read_again_and_the_batch_completes(seeded, app, settings, as_actor):
    """Both servers cache every chain head they wrote; each search extends the same chains, so the second
    server's batch meets a head the first one moved: the traces before it stay, the rest is built again."""
    from fastapi.testclient import TestClient

    from fhir_server.main import create_app

    from ..conftest import Api
    first = as_actor(LEFEBVRE)
    other = Api(TestClient(create_app(settings, store=seeded)), first.token)
    search = "DocumentReference?status=current&_count=50"
    rids = []
    for api in (first, other, first, other):
        response, rid = send(api, "GET", search)
        assert response.status_code == 200, response.text
        rids.append(rid)
    keys = {d["_chain"]["key"] for d in stored_traces(seeded, rids[0])}
    assert len(keys) >= 3
    for key in keys:                                 # four searches: four traces in each chain, in order
        seqs = [d["_chain"]["seq"] for d in chain(seeded, key)]
        assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 4
    assert all(len(stored_traces(seeded, rid)) == len(keys) for rid in rids)
    assert verify(seeded)[1] == []


def test_a_head_that_keeps_moving_refuses_the_request_after_a_few_tries(seeded, as_actor, monkeypatch):
    """Another process winning every race: the writer retries a bounded number of times, then answers 503."""
    from fhir_server.audit.writer import ATTEMPTS
    from fhir_server.errors import Conflict
    tries: list[int] = []

    def always_taken(collection, docs, uow=None, **kwargs):
        tries.append(len(docs))
        conflict = Conflict("AuditEvent key taken")
        conflict.stored = 0
        raise conflict
    monkeypatch.setattr(seeded, "insert_many", always_taken)
    response, _ = send(as_actor(LEFEBVRE), "GET", "Patient/pat-claire-martin")
    assert response.status_code == 503 and "284066938441230" not in response.text
    assert tries == [1] * (2 * ATTEMPTS)        # the read's trace, then the trace of its failure: each gives up


def test_traces_stored_before_a_moved_head_stay_and_the_rest_follow(seeded, as_actor, monkeypatch):
    """The second trace of a batch meets a moved head once: the first is kept, the second and third stored after."""
    insert_many = seeded.insert_many
    batches: list[int] = []

    def second_taken_once(collection, docs, uow=None, **kwargs):
        batches.append(len(docs))
        if collection == COLLECTION and len(batches) == 1 and len(docs) > 2:
            insert_many(collection, docs[:1], uow, **kwargs)
            from fhir_server.errors import Conflict
            conflict = Conflict("AuditEvent key taken")
            conflict.stored = 1
            raise conflict
        return insert_many(collection, docs, uow, **kwargs)
    monkeypatch.setattr(seeded, "insert_many", second_taken_once)
    response, rid = send(as_actor(LEFEBVRE), "GET", "DocumentReference?status=current&_count=50")
    assert response.status_code == 200
    stored = stored_traces(seeded, rid)
    assert batches == [len(stored), len(stored) - 1] and len(stored) >= 3
    assert verify(seeded)[1] == []
