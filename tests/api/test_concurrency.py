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
