"""Point access on the embedded store at 1,000, 10,000 and 100,000 resources: the cost must not grow with N.

    python benchmarks/point_access.py                 # N = 1000 10000 100000, 200 runs each
    python benchmarks/point_access.py --sizes 1000 10000 --runs 500

For each N a fresh embedded store is loaded with N Observations of N/10 patients (and their history entries
and N AuditEvents in as many chains), written straight into the collections as the server writes them. Then
each interaction is dispatched in-process as a trusted system and timed (median µs), and the documents that
mongomock's matcher evaluated per call are counted: a scan shows as a count that grows with N.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mongomock import collection as mongomock_collection  # noqa: E402

from fhir_server.access.acl import compute_acl  # noqa: E402
from fhir_server.auth.actor import Actor, Scope  # noqa: E402
from fhir_server.config import Settings  # noqa: E402
from fhir_server.main import create_app  # noqa: E402
from fhir_server.search.index import extract_index  # noqa: E402
from fhir_server.services.context import Context, Interaction  # noqa: E402
from fhir_server.services.dispatch import dispatch  # noqa: E402
from fhir_server.storage import embedded  # noqa: E402
from fhir_server.storage.mongo import HISTORY, now_ms  # noqa: E402

SYSTEM = Actor(reference="Device/bench", scopes=(Scope("system", "*", "cruds"),))
MARK = "urn:dmp-fhir:bench"


def observation(i: int, patient: str) -> dict:
    return {"resourceType": "Observation", "id": f"obs-{i}", "status": "final",
            "identifier": [{"system": MARK, "value": f"obs-{i}"}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "subject": {"reference": f"Patient/{patient}"},
            "valueQuantity": {"value": 60 + i % 40, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
            "meta": {"versionId": "1", "lastUpdated": "2026-11-22T10:00:00.000Z"}}


def load(store, audit, n: int) -> None:
    now = now_ms()
    current, history = [], []
    for i in range(n):
        res = observation(i, f"pat-{i % max(1, n // 10)}")
        idx = extract_index(res)
        current.append({"_id": res["id"], "v": 1, "lu": now, "deleted": False, "res": res, "_idx": idx,
                        "_acl": compute_acl("Observation", res, idx, None, now)})
        history.append({"_id": f"Observation/{res['id']}/1", "type": "Observation", "id": res["id"], "v": 1,
                        "lu": now, "deleted": False, "res": res})
    store.insert_many("Observation", current)
    store.insert_many(HISTORY, history)
    with store.unit_of_work() as uow:
        for i in range(n):
            audit.append({"resourceType": "AuditEvent", "recorded": "2026-11-22T10:00:00.000Z"},
                         {"patients": [f"pat-{i % max(1, n // 10)}"], "agent": SYSTEM.reference, "docs": []}, now, uow)


def interactions(n: int) -> dict:
    target = f"obs-{n // 2}"
    new = observation(0, "pat-0")
    return {
        "read": lambda i: Interaction(kind="read", method="GET", resource_type="Observation", id=target),
        "vread": lambda i: Interaction(kind="vread", method="GET", resource_type="Observation", id=target, version="1"),
        "update": lambda i: Interaction(kind="update", method="PUT", resource_type="Observation", id=target,
                                        body={**observation(n // 2, "pat-0"), "status": ("final", "amended")[i % 2]}),
        "create": lambda i: Interaction(kind="create", method="POST", resource_type="Observation",
                                        body={k: v for k, v in new.items() if k not in ("id", "meta")}),
        "conditional create": lambda i: Interaction(
            kind="create", method="POST", resource_type="Observation", if_none_exist=f"identifier={MARK}|c-{i}",
            body={**{k: v for k, v in new.items() if k not in ("id", "meta")},
                  "identifier": [{"system": MARK, "value": f"c-{i}"}]}),
        "delete": lambda i: Interaction(kind="delete", method="DELETE", resource_type="Observation", id=f"obs-{i}"),
        "search one patient": lambda i: Interaction(kind="search-type", method="GET", resource_type="Observation",
                                                    params=[("patient", "Patient/pat-3"), ("_count", "5")]),
    }


class Evaluations:
    """Counts the documents mongomock's matcher evaluates (the wrapped filter_applies)."""

    def __init__(self):
        self.count = 0
        self._original = mongomock_collection.filter_applies

    def __enter__(self):
        def counting(*args, **kwargs):
            self.count += 1
            return self._original(*args, **kwargs)
        mongomock_collection.filter_applies = counting
        embedded.filter_applies = counting
        return self

    def __exit__(self, *exc):
        mongomock_collection.filter_applies = self._original
        embedded.filter_applies = self._original


def measure(n: int, runs: int) -> dict[str, tuple[float, float]]:
    settings = Settings(jwt_secret="benchmark-secret-benchmark-secret", base_url="http://bench/fhir")
    app = create_app(settings)
    store, audit = app.state.store, app.state.audit
    load(store, audit, n)
    results = {}
    for name, make in interactions(n).items():
        # the first query on a field builds its hash index (one scan): warm it, as a running server is
        dispatch(Context(store=store, settings=settings, actor=SYSTEM, base_url=settings.base_url, audit=audit),
                 make(runs))
        times = []
        with Evaluations() as evaluated:
            for i in range(runs):
                ctx = Context(store=store, settings=settings, actor=SYSTEM, base_url=settings.base_url,
                              request_id=uuid.uuid4().hex, audit=audit)
                it = make(i)
                start = time.perf_counter()
                dispatch(ctx, it)
                times.append(time.perf_counter() - start)
        results[name] = (statistics.median(times) * 1e6, evaluated.count / runs)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    table = {n: measure(n, args.runs) for n in args.sizes}
    names = list(next(iter(table.values())))
    print(f"{'interaction':20}" + "".join(f"{f'N={n:,} µs':>14}{'docs/call':>11}" for n in args.sizes))
    for name in names:
        print(f"{name:20}" + "".join(f"{table[n][name][0]:14.0f}{table[n][name][1]:11.1f}" for n in args.sizes))


if __name__ == "__main__":
    main()
