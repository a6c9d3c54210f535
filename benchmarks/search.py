"""Search latency: load N generated patients with their documents, time typical ITI-67 and Patient searches.

For each N (`--patients 1000,10000`): a fresh store (the embedded one, or a throw-away database on
`DMP_FHIR_MONGODB_URI`) with the declared indexes, loaded directly through `MongoStore.write` (index values
extracted as `services/writing.py::store_version` does), then each query run `--runs` times in sequence through
`fhir_server.search.engine.run_search` (engine + store, no HTTP), and with `--http` through the FastAPI app
under uvicorn in this process (same store, a trusted-system token). Prints N, query, runs, p50/p99 ms, req/s,
the load time, and whether every store query a search sent is served by a declared index.

    python benchmarks/search.py                           # N = 1000 and 10000 on the embedded store
    python benchmarks/search.py --patients 1000 --runs 200 --http
    DMP_FHIR_MONGODB_URI=mongodb://127.0.0.1:27017 python benchmarks/search.py --patients 100000
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import platform
import random
import secrets
import socket
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from anywhere without installing

from benchmarks.datagen import PROBE_BIRTHDATE, Dataset, Probe, seed  # noqa: E402
from fhir_server.access.acl import compute_acl  # noqa: E402
from fhir_server.config import Settings  # noqa: E402
from fhir_server.main import open_store as open_server_store  # noqa: E402
from fhir_server.search.engine import run_search  # noqa: E402
from fhir_server.search.index import extract_index  # noqa: E402
from fhir_server.search.indexes import index_declarations, served  # noqa: E402
from fhir_server.storage.base import Write  # noqa: E402
from fhir_server.storage.mongo import MongoStore  # noqa: E402

BASE = "http://127.0.0.1/fhir"
NIR_SYSTEM = seed.OID_INS_NIR_TEST
A03 = seed.CS_A03_CLASS
LOADED_AT = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
ITI67 = "DocumentReference?patient=Patient/X&status=current"


@dataclass(frozen=True)
class Query:
    label: str                      # as printed (X, NIR, ... stand for the probed patient's values)
    resource_type: str
    params: object                  # probe -> [(name, value)]


QUERIES = [
    Query(ITI67, "DocumentReference",
          lambda p: [("patient", f"Patient/{p.patient_id}"), ("status", "current")]),
    Query(f"DocumentReference?status=current&patient.identifier={NIR_SYSTEM}|NIR", "DocumentReference",
          lambda p: [("status", "current"), ("patient.identifier", f"{NIR_SYSTEM}|{p.nir}")]),
    Query(f"{ITI67}&date=ge2025-01-01&_sort=-date", "DocumentReference",
          lambda p: [("patient", f"Patient/{p.patient_id}"), ("status", "current"), ("date", "ge2025-01-01"),
                     ("_sort", "-date")]),
    Query(f"{ITI67}&category=<TRE_A03>|10", "DocumentReference",
          lambda p: [("patient", f"Patient/{p.patient_id}"), ("status", "current"), ("category", f"{A03}|10")]),
    Query(f"{ITI67}&author.family=FAMILY", "DocumentReference",
          lambda p: [("patient", f"Patient/{p.patient_id}"), ("status", "current"),
                     ("author.family", p.author_family)]),
    Query(f"Patient?identifier={NIR_SYSTEM}|NIR", "Patient", lambda p: [("identifier", f"{NIR_SYSTEM}|{p.nir}")]),
    Query("Patient?family=mart", "Patient", lambda p: [("family", "mart")]),
    Query(f"Patient?birthdate={PROBE_BIRTHDATE}", "Patient", lambda p: [("birthdate", PROBE_BIRTHDATE)]),
    Query("Patient?name=claire&gender=female", "Patient", lambda p: [("name", "claire"), ("gender", "female")]),
]


# ---------------------------------------------------------------------------------------------- results

@dataclass
class Timing:
    n: int
    query: str
    mode: str                       # "engine" or "http"
    latencies_ms: list[float] = field(default_factory=list)
    matches: list[int] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    index: str = "-"
    details: list[str] = field(default_factory=list)

    def percentile(self, p: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered), max(1, math.ceil(p / 100 * len(ordered)))) - 1]   # nearest rank

    @property
    def rate(self) -> float | None:
        spent = sum(self.latencies_ms) / 1000
        return len(self.latencies_ms) / spent if spent else None

    def row(self) -> tuple[str, ...]:
        matched = sorted(self.matches)[len(self.matches) // 2] if self.matches else None
        return (str(self.n), self.mode, self.query, str(len(self.latencies_ms)), _fmt(self.percentile(50), 2),
                _fmt(self.percentile(99), 2), _fmt(self.rate, 1), "-" if matched is None else str(matched),
                str(self.errors), self.index)


def _fmt(x: float | None, digits: int) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def print_table(rows: list[tuple[str, ...]]) -> None:
    header = ("N", "via", "query", "runs", "p50 ms", "p99 ms", "req/s", "matches", "errors", "indexed")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    left = {1, 2, 9}

    def line(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print(line(header))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))


# ---------------------------------------------------------------------------------------------- index check

class Recording:
    """The store, remembering the (collection, filter, sort) of every find/count while `on`."""

    def __init__(self, store: MongoStore):
        self.store, self.on, self.calls = store, False, []

    def find(self, resource_type: str, filter: dict, *, sort=None, limit: int = 0, skip: int = 0,
             projection: dict | None = None) -> list[dict]:
        if self.on:
            self.calls.append(("find", resource_type, filter, sort or []))
        return self.store.find(resource_type, filter, sort=sort, limit=limit, skip=skip, projection=projection)

    def count(self, resource_type: str, filter: dict, limit: int = 0) -> int:
        if self.on:
            self.calls.append(("count", resource_type, filter, []))
        return self.store.count(resource_type, filter, limit=limit)

    def __getattr__(self, name):
        return getattr(self.store, name)


def leading_keys(resource_type: str) -> set[str]:
    return {keys[0][0] for keys in index_declarations(resource_type)} | {"_id"}


def filter_fields(filter, prefix: str = "") -> list[str]:
    """Every field path a filter constrains (operators walked into, `$elemMatch` prefixes kept)."""
    out: list[str] = []
    if isinstance(filter, list):
        for f in filter:
            out += filter_fields(f, prefix)
        return out
    if not isinstance(filter, dict):
        return out
    for key, cond in filter.items():
        if key in ("$and", "$or", "$nor"):
            out += filter_fields(cond, prefix)
        elif not key.startswith("$"):
            inner = cond.get("$elemMatch") if isinstance(cond, dict) else None
            if isinstance(inner, dict) and not all(k.startswith("$") for k in inner):
                out += filter_fields(inner, prefix + key + ".")     # an array of subdocuments: their fields
            else:
                out.append(prefix + key)
    return [f for i, f in enumerate(out) if f not in out[:i]]


def index_report(calls: list[tuple]) -> tuple[str, list[str]]:
    """('yes' | 'NO', one line per distinct store query: its _idx fields, ✓ when an index leads with it)."""
    lines: list[str] = []
    verdict = "yes"
    for kind, rtype, filter, sort in calls:
        keys = leading_keys(rtype)
        fields = [f for f in filter_fields(filter) if f.startswith("_idx.") or f == "_id"]
        marks = ", ".join(f"{f} {'✓' if f in keys else '✗ (no index leads with it)'}" for f in fields)
        ok = served(filter, keys)
        sort_keys = [f for f, _ in sort if f != "_id"]
        sort_note = ""
        if sort_keys:
            decl = [list(k) for k in index_declarations(rtype)]
            walkable = list(sort) in decl or [(f, -d) for f, d in sort] in decl
            sort_note = f"; sort on {', '.join(sort_keys)}: " + ("a declared index has that order" if walkable
                                                                  else "no index has that order (in memory)")
        if not ok or any(f not in keys for f in fields):
            verdict = "NO"
        line = f"{kind} {rtype}: {marks or 'no _idx field'}{sort_note}" + ("" if ok else "  <-- NOT SERVED")
        if line not in lines:
            lines.append(line)
    return verdict, lines


# ---------------------------------------------------------------------------------------------- load

def open_store(uri: str | None, n: int) -> MongoStore:
    """A fresh store with the server's own index declarations (search parameters + access policy)."""
    db = "bench" if not uri else f"bench_search_{n}_{uuid.uuid4().hex[:8]}"
    return open_server_store(Settings(mongodb_uri=uri, db=db))


def put(store: MongoStore, resource: dict, last_updated: datetime) -> None:
    """Version 1 of `resource`, built as services/writing.py::store_version builds it (index values and
    `_acl` extracted once), minus the access check a trusted system passes anyway."""
    resource = {**resource, "meta": {**(resource.get("meta") or {}), "versionId": "1",
                                     "lastUpdated": last_updated.isoformat(timespec="milliseconds")
                                     .replace("+00:00", "Z")}}
    rtype = resource["resourceType"]
    index = extract_index(resource, base_url=BASE)
    acl = compute_acl(rtype, resource, index, None, last_updated)
    store.write(Write(rtype, resource["id"], resource, index, acl, None), last_updated)


def load(store: MongoStore, data: Dataset, workers: int) -> tuple[float, dict[str, int]]:
    counts: dict[str, int] = {}
    tick = iter(range(10**9))

    def batches():
        yield data.organizations + data.practitioners
        for patient, docs in data.records():
            yield [patient, *docs]

    def write_all(resources: list[dict]) -> None:
        for r in resources:
            put(store, r, LOADED_AT + timedelta(milliseconds=next(tick)))

    start = time.perf_counter()
    if workers <= 1:
        for batch in batches():
            write_all(batch)
            for r in batch:
                counts[r["resourceType"]] = counts.get(r["resourceType"], 0) + 1
    else:
        with ThreadPoolExecutor(workers) as pool:
            pending = []
            for batch in batches():
                for r in batch:
                    counts[r["resourceType"]] = counts.get(r["resourceType"], 0) + 1
                pending.append(pool.submit(write_all, batch))
                if len(pending) >= workers * 64:
                    for f in pending:
                        f.result()
                    pending = []
            for f in pending:
                f.result()
    return time.perf_counter() - start, counts


# ---------------------------------------------------------------------------------------------- runs

def matches_of(bundle: dict) -> int:
    if "total" in bundle:
        return bundle["total"]
    return sum(1 for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == "match")


def run_engine(store: MongoStore, query: Query, probes: list[Probe], runs: int, n: int) -> Timing:
    timing = Timing(n, query.label, "engine")
    recording = Recording(store)
    recording.on = True
    try:                            # unmeasured warm-up, which also records the store queries for the index check
        run_search(recording, query.resource_type, query.params(probes[0]), base_url=BASE)
    except Exception as e:          # noqa: BLE001 - reported in the table, the other queries still run
        timing.errors, timing.first_error = 1, f"{type(e).__name__}: {e}"
        return timing
    recording.on = False
    timing.index, timing.details = index_report(recording.calls)
    for i in range(runs):
        params = query.params(probes[(i + 1) % len(probes)])
        t0 = time.perf_counter()
        try:
            bundle = run_search(store, query.resource_type, params, base_url=BASE)
        except Exception as e:      # noqa: BLE001
            timing.latencies_ms.append((time.perf_counter() - t0) * 1000)
            timing.errors += 1
            timing.first_error = timing.first_error or f"{type(e).__name__}: {e}"
            continue
        timing.latencies_ms.append((time.perf_counter() - t0) * 1000)
        timing.matches.append(matches_of(bundle))
    return timing


class InProcessServer:
    """The FastAPI app on the loaded store, under uvicorn in a thread on a free loopback port."""

    def __init__(self, store: MongoStore, uri: str | None):
        import uvicorn

        from fhir_server.main import create_app

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        settings = Settings(mongodb_uri=uri, db=store.db.name, jwt_secret=secrets.token_urlsafe(48),
                            base_url=f"http://127.0.0.1:{self.port}/fhir")
        self.app = create_app(settings, store=store)
        self.token = self.app.state.tokens.mint("Device/bench", scope="system/*.cruds")
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "InProcessServer":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def run_http(server: InProcessServer, query: Query, probes: list[Probe], runs: int, n: int) -> Timing:
    timing = Timing(n, query.label, "http")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    headers = {"Authorization": f"Bearer {server.token}", "Accept": "application/fhir+json"}
    import orjson

    def once(probe: Probe) -> tuple[int, bytes]:
        conn.request("GET", f"/fhir/{query.resource_type}?{urlencode(query.params(probe))}", headers=headers)
        response = conn.getresponse()
        return response.status, response.read()

    try:
        once(probes[0])             # warm-up: connection set-up is not in the figures
        for i in range(runs):
            t0 = time.perf_counter()
            status, body = once(probes[(i + 1) % len(probes)])
            timing.latencies_ms.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                timing.errors += 1
                timing.first_error = timing.first_error or f"HTTP {status}: {body[:300].decode(errors='replace')}"
            else:
                timing.matches.append(matches_of(orjson.loads(body)))
    finally:
        conn.close()
    return timing


# ---------------------------------------------------------------------------------------------- main

def default_runs(n: int, embedded: bool) -> int:
    if not embedded:
        return 200
    return 100 if n <= 2000 else 20


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--patients", default="1000,10000", help="comma-separated N values (1000,10000)")
    p.add_argument("--runs", type=int, help="timed runs per query (default: 100 for N <= 2000 and 20 above on "
                                            "the embedded store, 200 on MongoDB)")
    p.add_argument("--http", action="store_true", help="also time each query over HTTP (uvicorn, in this process)")
    p.add_argument("--queries", help="only the queries whose label contains one of these comma-separated words")
    p.add_argument("--load-workers", type=int, help="threads writing the data set (1 embedded, 8 on MongoDB)")
    p.add_argument("--keep", action="store_true", help="on MongoDB, keep the benchmark databases")
    p.add_argument("--seed", type=int, default=20261122, help="data set seed")
    args = p.parse_args(argv)
    try:
        args.patients = [int(x) for x in args.patients.split(",") if x.strip()]
    except ValueError:
        p.error("--patients takes comma-separated integers")
    if not args.patients or min(args.patients) < 1 or (args.runs is not None and args.runs < 1):
        p.error("--patients and --runs must be positive")
    return args


def header(uri: str | None, args: argparse.Namespace) -> None:
    print(f"search benchmark: python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"store {'MongoDB ' + uri.split('@')[-1] if uri else 'embedded (mongomock, in memory)'}")
    if not uri:
        print("NOTE: the embedded store (mongomock) scans the whole collection for every query and ignores the\n"
              "      indexes: latency grows linearly with N and says nothing about MongoDB at scale. Figures at\n"
              "      N = 10000 are measured with fewer runs; use DMP_FHIR_MONGODB_URI for real figures.")
    print("Queries run one after another (one client); req/s = runs / time spent in them. X, NIR, FAMILY rotate\n"
          "over patients that have current documents. 'matches' = median Bundle.total. 'indexed' = every store\n"
          "query the search sent (page, total, chained inner searches) is served by a declared index.\n"
          "With fewer than 100 runs, p99 is the slowest run.")
    if args.http:
        print("HTTP: the app under uvicorn in this process (same store; client and server share the GIL).")
    print()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    uri = os.environ.get("DMP_FHIR_MONGODB_URI") or None
    queries = [q for q in QUERIES if not args.queries
               or any(w.strip() and w.strip() in q.label for w in args.queries.split(","))]
    header(uri, args)
    rows, details, failures, loads = [], {}, [], []
    for n in args.patients:
        store = open_store(uri, n)
        try:
            data = Dataset(n, args.seed)
            workers = args.load_workers or (1 if store.embedded else 8)
            seconds, counts = load(store, data, workers)
            summary = ", ".join(f"{v} {k}" for k, v in counts.items())
            loads.append(f"N={n}: loaded {sum(counts.values())} resources ({summary}) in {seconds:.1f} s "
                         f"({sum(counts.values()) / seconds:.0f} resources/s, {workers} writer(s))")
            print(loads[-1], file=sys.stderr, flush=True)
            probes = [p for p in data.probes if p.current]
            random.Random(n).shuffle(probes)
            runs = args.runs or default_runs(n, store.embedded)
            timings = []
            for q in queries:
                t = run_engine(store, q, probes, runs, n)
                details[q.label] = t.details
                timings.append(t)
                print("  " + "  ".join(t.row()), file=sys.stderr, flush=True)
            if args.http:
                with InProcessServer(store, uri) as server:
                    for q in queries:
                        t = run_http(server, q, probes, runs, n)
                        t.index = next((x.index for x in timings if x.query == q.label), "-")
                        timings.append(t)
                        print("  " + "  ".join(t.row()), file=sys.stderr, flush=True)
            rows += [t.row() for t in timings]
            failures += [f"N={t.n} {t.mode} {t.query}: {t.first_error}" for t in timings if t.first_error]
        finally:
            if not store.embedded and not args.keep:
                store.client.drop_database(store.db.name)
    print()
    print_table(rows)
    print()
    for line in loads:
        print(line)
    print("\nStore queries per search (✓ = a declared index leads with the field):")
    for label, lines in details.items():
        print(f"  {label}")
        for line in lines:
            print(f"    {line}")
    if failures:
        print("\nErrors:")
        for f in failures:
            print(f"  {f}")
    return 1 if failures or any(r[-1] == "NO" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
