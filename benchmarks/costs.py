"""The cost of our guarantees: the share of a read and of a search spent on the access policy and on the trace.

    python benchmarks/costs.py [--runs 1000]

Dispatches interactions in-process on the seeded embedded store, as a trusted system, the médecin traitant
(care team, masked documents included) and an authorised specialist (masked documents excluded), and times
two families of functions with wall clocks around their outermost calls:
- policy: the access decisions and filters (services/guard.py, every method of access/policy.py's Policy,
  access/scope.py's search scope), including the store queries they make to read the patient's facts;
- trace: building and storing the AuditEvent (services/tracing.py begin, failed and write, which covers the
  chain, the index values and the insert; and write_together and write_collected, with which the whole request's
  group commit, api/group_commit.py, stores what a read collected).
The time the database spends evaluating the policy filter ANDed into a search's own query is not separable
and counts as the search's. Three shares are printed: of the dispatch (the service layer alone), of the whole
request through the application's ASGI interface in-process (token check, routing, rendering, access log; no
socket and no HTTP parser, which benchmarks/rest.py adds), one request at a time, and of 16 such requests at once
on one event loop, as a server meets 16 concurrent clients (reads then store their traces together,
api/group_commit.py; µs per request).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fhir_server.access import policy as policy_module  # noqa: E402
from fhir_server.access import scope as scope_module  # noqa: E402
from fhir_server.auth.actor import Actor, Scope  # noqa: E402
from fhir_server.cli import tune_garbage_collector  # noqa: E402
from fhir_server.services import guard, tracing  # noqa: E402
from fhir_server.services.context import Context, Interaction  # noqa: E402
from fhir_server.services.dispatch import dispatch  # noqa: E402
from seeded import seeded_app  # noqa: E402

PATIENT = "pat-claire-martin"
DOCUMENT = "doc-claire-martin-cr-consultation-gynecologie-2026-05"   # masked: the specialist is told 404
ACTORS = {
    "trusted system": Actor(reference="Device/bench", scopes=(Scope("system", "*", "cruds"),)),
    "médecin traitant": Actor(reference="Practitioner/pra-antoine-lefebvre", scopes=(Scope("user", "*", "cruds"),)),
    "authorised specialist": Actor(reference="Practitioner/pra-olivier-lambert",
                                   scopes=(Scope("user", "*", "cruds"),)),
}
PATHS = {   # the same interactions over the application's ASGI interface
    "read Patient": ("/fhir/Patient/" + PATIENT, ""),
    "read DocumentReference": ("/fhir/DocumentReference/" + DOCUMENT, ""),
    "search DocumentReference": ("/fhir/DocumentReference", f"patient=Patient/{PATIENT}"),
    "search with _include": ("/fhir/DocumentReference", f"patient=Patient/{PATIENT}&_include=DocumentReference:author"),
}
INTERACTIONS = {
    "read Patient": lambda: Interaction(kind="read", method="GET", resource_type="Patient", id=PATIENT),
    "read DocumentReference": lambda: Interaction(kind="read", method="GET", resource_type="DocumentReference",
                                                  id=DOCUMENT),
    "search DocumentReference": lambda: Interaction(kind="search-type", method="GET",
                                                    resource_type="DocumentReference",
                                                    params=[("patient", f"Patient/{PATIENT}")]),
    "search with _include": lambda: Interaction(kind="search-type", method="GET", resource_type="DocumentReference",
                                                params=[("patient", f"Patient/{PATIENT}"), ("_include", "DocumentReference:author")]),
}


class Clock:
    """Wall time inside the outermost call of each family (nested calls of one family count once)."""

    def __init__(self):
        self.spent: Counter = Counter()
        self._depth: Counter = Counter()

    def wrap(self, family: str, function):
        def timed(*args, **kwargs):
            self._depth[family] += 1
            start = time.perf_counter() if self._depth[family] == 1 else None
            try:
                return function(*args, **kwargs)
            finally:
                self._depth[family] -= 1
                if start is not None:
                    self.spent[family] += time.perf_counter() - start
        return timed


def instrument(clock: Clock) -> None:
    """Replace the functions of both families wherever a fhir_server module holds them (modules import them by
    name), and the Policy methods on the class."""
    targets = {("policy", getattr(guard, n)) for n in ("check_readable", "search_filter", "require_readable",
                                                          "check_writable", "note", "note_intended")}
    targets |= {("policy", scope_module.search_scope)}
    targets |= {("trace", getattr(tracing, n))
                for n in ("begin", "failed", "write", "write_together", "write_collected")}
    wrapped = {id(f): clock.wrap(family, f) for family, f in targets}
    for name, module in list(sys.modules.items()):
        if not name.startswith("fhir_server") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if id(value) in wrapped and callable(value):
                setattr(module, attr, wrapped[id(value)])
    for attr, value in list(vars(policy_module.Policy).items()):
        if callable(value) and not attr.startswith("__"):
            setattr(policy_module.Policy, attr, clock.wrap("policy", value))


def timed_runs(run_once, runs: int, clock: Clock) -> dict:
    totals, policy, trace = [], [], []
    for _ in range(runs):
        clock.spent.clear()
        start = time.perf_counter()
        run_once()
        totals.append(time.perf_counter() - start)
        policy.append(clock.spent["policy"])
        trace.append(clock.spent["trace"])
    total = statistics.median(totals)
    return {"µs": total * 1e6, "policy": statistics.median(policy) / total, "trace": statistics.median(trace) / total}


def dispatched(ctx: Context, make):
    def run_once():
        try:
            # a request id of its own, as every request has: it is in the trace (BALP XrequestId)
            dispatch(replace(ctx, _policy=None, request_id=uuid.uuid4().hex), make())
        except Exception:     # noqa: BLE001 - a refusal (404 for the specialist) is an answer like any other
            pass
    return run_once


def asgi_request(app, token: str, path: str, query: str):
    """A function that makes one new request's coroutine: the GET through the application's ASGI interface."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"127.0.0.1:8000"), (b"authorization", f"Bearer {token}".encode()),
                         (b"accept", b"application/fhir+json")],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    return lambda: app({**scope, "state": {}}, receive, send)


def requested(app, loop, token: str, path: str, query: str):
    request = asgi_request(app, token, path, query)
    return lambda: loop.run_until_complete(request())


def requested_together(app, loop, token: str, path: str, query: str):
    """CLIENTS of those requests at once on one event loop, as a server meets concurrent clients: the reads among
    them store their traces together (api/group_commit.py). Timed per request."""
    request = asgi_request(app, token, path, query)

    async def all_of_them():
        await asyncio.gather(*(request() for _ in range(CLIENTS)))
    return lambda: loop.run_until_complete(all_of_them())


CLIENTS = 16      # as benchmarks/rest.py's default concurrency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    app, settings = seeded_app()
    tune_garbage_collector()        # as `dmp-fhir serve` does
    clock = Clock()
    instrument(clock)
    loop = asyncio.new_event_loop()
    print(f"{'':50} {'dispatch':^23} {'whole request (ASGI)':^23} {f'{CLIENTS} requests at once':^23}")
    print(f"{'interaction':26} {'actor':22}" + f" {'µs':>7} {'policy':>7} {'trace':>7}" * 3)
    for name, make in INTERACTIONS.items():
        for who, actor in ACTORS.items():
            ctx = Context(store=app.state.store, settings=settings, actor=actor, base_url=settings.base_url,
                          request_id="bench", audit=app.state.audit)
            scope = "system/*.cruds" if actor.is_trusted_system else "user/*.cruds"
            token = app.state.tokens.mint(actor.reference, scope=scope)
            cells = []
            for run_once, per_run in ((dispatched(ctx, make), 1), (requested(app, loop, token, *PATHS[name]), 1),
                                      (requested_together(app, loop, token, *PATHS[name]), CLIENTS)):
                runs = max(1, args.runs // per_run)
                timed_runs(run_once, max(1, 50 // per_run), clock)          # warm: caches, the chain heads
                row = timed_runs(run_once, runs, clock)
                cells.append(f"{row['µs'] / per_run:7.0f} {100 * row['policy']:6.0f}% {100 * row['trace']:6.0f}%")
            print(f"{name:26} {who:22} {' '.join(cells)}")


if __name__ == "__main__":
    main()
