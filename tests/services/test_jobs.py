"""Background jobs across processes: one lease per job in the database, taken over when stale; each notice once."""

import threading
from datetime import timedelta

import pytest

from fhir_server.main import NOTICE_LEASE, NOTICES_JOB
from fhir_server.services.jobs import process_holder, run_if_leader
from fhir_server.services.notifications import notify_hidden_documents
from fhir_server.storage.mongo import LEASES, MongoStore, now_ms
from tests.factories import document_reference, patient

GP = "Practitioner/gp-jobs"
VISIBILITY = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
TTL = timedelta(minutes=30)


@pytest.fixture
def other_process(store, settings):
    """A second store on the same database, as a second server process sees it."""
    if store.embedded:
        other = MongoStore(store.client, settings.db, embedded=True)
        other._lock = store._lock       # one mongomock database in one process: one lock, as one server would be
        yield other
        return
    other = MongoStore.connect(settings.mongodb_uri, settings.db)
    yield other
    other.client.close()


def test_a_live_lease_keeps_the_other_process_out_until_it_goes_stale(store, other_process):
    t0 = now_ms()
    assert store.acquire_lease("job", "A", t0, TTL)
    assert not other_process.acquire_lease("job", "B", t0 + TTL / 2, TTL)
    assert store.acquire_lease("job", "A", t0 + TTL / 2, TTL)              # renewed: now live until 1.5 × ttl
    assert not other_process.acquire_lease("job", "B", t0 + TTL, TTL)
    assert other_process.acquire_lease("job", "B", t0 + TTL * 2, TTL)     # stale: taken over
    assert not store.acquire_lease("job", "A", t0 + TTL * 2, TTL)
    [lease] = store.find(LEASES, {})
    assert lease["_id"] == "job" and lease["holder"] == "B" and lease["until"] == t0 + TTL * 3


def test_a_released_lease_is_taken_at_once_and_only_by_its_holder(store, other_process):
    t0 = now_ms()
    assert store.acquire_lease("job", "A", t0, TTL)
    other_process.release_lease("job", "B")                                # not B's: nothing happens
    assert not other_process.acquire_lease("job", "B", t0, TTL)
    store.release_lease("job", "A")
    assert other_process.acquire_lease("job", "B", t0, TTL)


def test_run_if_leader_runs_the_job_in_one_process(store, other_process):
    ran = []
    a, b = process_holder(), process_holder()
    assert a != b
    assert run_if_leader(store, "job", a, now_ms(), TTL, lambda: ran.append("A") or 1) == 1
    assert run_if_leader(other_process, "job", b, now_ms(), TTL, lambda: ran.append("B") or 1) is None
    assert ran == ["A"]


def _hidden_for_15_days(system, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        pid = system.post("Patient", patient(generalPractitioner=[{"reference": GP}])).json()["id"]
        doc = document_reference(f"Patient/{pid}", GP, date=(now_ms() - timedelta(days=15)).isoformat(),
                                 securityLabel=[{"coding": [{"system": VISIBILITY, "code": "INVISIBLE_PATIENT"}]}])
        assert system.post("DocumentReference", doc).status_code == 201
        ids.append(pid)
    return ids


def _notices(store) -> list[str]:
    return sorted(d["res"]["subject"]["reference"] for d in store.find("Communication", {
        "res.sender.reference": "Device/dmp-fhir-server"}))


def _together(*jobs):
    """Start the jobs at the same instant in threads; their results in order."""
    start, results = threading.Barrier(len(jobs)), [None] * len(jobs)

    def run(i, job):
        start.wait()
        results[i] = job()
    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_processes_running_the_notice_job_together_send_each_notice_once(system, store, other_process,
                                                                              settings):
    patients = _hidden_for_15_days(system, 4)
    jobs = [lambda s=s: run_if_leader(s, NOTICES_JOB, process_holder(), now_ms(), NOTICE_LEASE,
                                      lambda: notify_hidden_documents(s, settings, now_ms()))
            for s in (store, other_process)]
    assert sorted(_together(*jobs), key=str) == [4, None]                 # one ran, the other stood aside
    assert _notices(store) == sorted(f"Patient/{p}" for p in patients)


def test_overlapping_runs_without_the_lease_still_send_each_notice_once(system, store, other_process, settings):
    """The per-notice claim is the last guard: a holder whose run outlived its lease overlaps the next one."""
    patients = _hidden_for_15_days(system, 4)
    sent = _together(*[lambda s=s: notify_hidden_documents(s, settings, now_ms()) for s in (store, other_process)])
    assert sum(sent) == 4
    assert _notices(store) == sorted(f"Patient/{p}" for p in patients)


def test_the_server_takes_the_notice_lease_at_start_and_gives_it_up_at_shutdown(settings):
    import time

    from fastapi.testclient import TestClient

    from fhir_server.main import create_app
    app = create_app(settings, background_jobs=True)
    store = app.state.store
    with TestClient(app):
        for _ in range(100):
            if store.find(LEASES, {}):
                break
            time.sleep(0.05)
        [lease] = store.find(LEASES, {})
        assert lease["_id"] == NOTICES_JOB and lease["until"] > now_ms() + NOTICE_LEASE - timedelta(minutes=1)
    assert store.find(LEASES, {}) == []                    # released: another process need not wait 30 minutes
    if not store.embedded:
        store.client.drop_database(settings.db)
