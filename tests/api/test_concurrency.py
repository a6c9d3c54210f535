"""Concurrency: compare-and-set on the version and race-free conditional create, under real threads."""

from concurrent.futures import ThreadPoolExecutor

from tests.factories import INS_NIR_TEST, patient

WORKERS = 8


def test_parallel_updates_with_if_match_exactly_one_wins(system):
    created = system.post("Patient", patient()).json()
    pid = created["id"]

    def update(i):
        body = {**created, "name": [{"family": f"Writer{i}"}]}
        return system.put(f"Patient/{pid}", body, headers={"If-Match": 'W/"1"'}).status_code

    with ThreadPoolExecutor(WORKERS) as pool:
        statuses = list(pool.map(update, range(WORKERS)))
    assert statuses.count(200) == 1 and statuses.count(412) == WORKERS - 1
    history = system.get(f"Patient/{pid}/_history").json()
    assert history["total"] == 2


def test_parallel_updates_without_if_match_all_land_in_sequence(system):
    created = system.post("Patient", patient()).json()
    pid = created["id"]

    def update(i):
        return system.put(f"Patient/{pid}", {**created, "name": [{"family": f"W{i}"}]}).status_code

    with ThreadPoolExecutor(WORKERS) as pool:
        statuses = list(pool.map(update, range(WORKERS)))
    assert statuses == [200] * WORKERS
    versions = [e["response"]["etag"] for e in system.get(f"Patient/{pid}/_history?_count=50").json()["entry"]]
    assert versions == [f'W/"{v}"' for v in range(WORKERS + 1, 0, -1)]


def test_parallel_conditional_creates_make_exactly_one_resource(system):
    condition = f"identifier={INS_NIR_TEST}|279035121518989"

    def create(_):
        return system.post("Patient", patient(), headers={"If-None-Exist": condition})

    with ThreadPoolExecutor(WORKERS) as pool:
        responses = list(pool.map(create, range(WORKERS)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (WORKERS - 1) + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert system.get(f"Patient?{condition}").json()["total"] == 1


def _losing_races(monkeypatch, store, losses: int, error=None):
    """store.write loses the version race `losses` times (as to a concurrent writer), then writes."""
    from fhir_server.errors import VersionRace
    real, calls = store.write, []

    def write(w, last_updated, uow=None):
        calls.append(w.expected_version)
        if len(calls) <= losses:
            raise error or VersionRace(f"{w.resource_type}/{w.id} is not at version {w.expected_version}")
        return real(w, last_updated, uow)
    monkeypatch.setattr(store, "write", write)
    return calls


def test_a_lost_race_without_if_match_is_redone_around_the_unit_of_work(system, store, monkeypatch):
    from fhir_server.services.dispatch import RACE_ATTEMPTS
    created = system.post("Patient", patient()).json()
    calls = _losing_races(monkeypatch, store, RACE_ATTEMPTS - 1)
    r = system.put(f"Patient/{created['id']}", {**created, "name": [{"family": "Again"}]})
    assert r.status_code == 200 and r.json()["meta"]["versionId"] == "2"
    assert len(calls) == RACE_ATTEMPTS
    patched = system.patch(f"Patient/{created['id']}", [{"op": "replace", "path": "/gender", "value": "male"}],
                           headers={"Content-Type": "application/json-patch+json"})
    assert patched.status_code == 200 and patched.json()["meta"]["versionId"] == "3"
    assert system.get(f"Patient/{created['id']}/_history").json()["total"] == 3


def test_races_are_retried_a_bounded_number_of_times(system, store, monkeypatch):
    from fhir_server.services.dispatch import RACE_ATTEMPTS
    created = system.post("Patient", patient()).json()
    calls = _losing_races(monkeypatch, store, 10 * RACE_ATTEMPTS)
    r = system.put(f"Patient/{created['id']}", {**created, "name": [{"family": "Never"}]})
    assert r.status_code == 409 and r.json()["resourceType"] == "OperationOutcome"
    assert len(calls) == RACE_ATTEMPTS
    monkeypatch.undo()
    assert system.get(f"Patient/{created['id']}").json()["meta"]["versionId"] == "1"


def test_a_race_with_if_match_or_another_conflict_is_not_retried(system, store, monkeypatch):
    from fhir_server.errors import Conflict
    created = system.post("Patient", patient()).json()
    calls = _losing_races(monkeypatch, store, 1)
    r = system.put(f"Patient/{created['id']}", {**created, "name": [{"family": "Pinned"}]}, headers={"If-Match": 'W/"1"'})
    assert r.status_code == 412 and len(calls) == 1
    calls = _losing_races(monkeypatch, store, 1, error=Conflict("some other clash"))
    r = system.put(f"Patient/{created['id']}", {**created, "name": [{"family": "Other"}]})
    assert r.status_code == 409 and "some other clash" in r.text and len(calls) == 1
