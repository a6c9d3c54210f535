"""The cost of the access policy: the same searches as a trusted system and as professionals whose
records hold masked documents (the policy's filter is compiled into each query).

    python benchmarks/policy.py [--patients 300] [--runs 50]

Loads `dmp-fhir seed --patients N` records (GPs, authorised specialists, 1 document in 12 masked) on the
embedded store, then times each search in-process through the dispatcher (policy + search + trace).
The embedded store scans collections: compare the columns with each other, not with a real MongoDB."""

from __future__ import annotations

import argparse
import statistics
import time

from fhir_server.audit.writer import AuditWriter
from fhir_server.auth.actor import Actor, Scope
from fhir_server.config import Settings
from fhir_server.main import open_store
from fhir_server.services.context import Context, Interaction
from fhir_server.services.dispatch import dispatch
from fhir_server.synthetic import load_generated

ACTORS = {
    "trusted system": Actor(reference="Device/bench", scopes=(Scope("system", "*", "cruds"),)),
    "médecin traitant": Actor(reference="Practitioner/syn-gp-0", scopes=(Scope("user", "*", "cruds"),)),
    "authorised specialist": Actor(reference="Practitioner/syn-spe-0", scopes=(Scope("user", "*", "cruds"),)),
}
QUERIES = {
    "DocRef?patient=X": ("DocumentReference", [("patient", "Patient/syn-pat-0")]),
    "DocRef?patient=X&status=current": ("DocumentReference", [("patient", "Patient/syn-pat-3"),
                                                              ("status", "current")]),
    "DocRef?status=current (all reachable)": ("DocumentReference", [("status", "current")]),
    "Patient?family=mar": ("Patient", [("family", "mar")]),
}


def time_search(store, settings, audit, actor: Actor, resource_type: str, params, runs: int) -> tuple[float, int]:
    samples, total = [], 0
    for _ in range(runs):
        ctx = Context(store=store, settings=settings, actor=actor, base_url=settings.public_base(), audit=audit)
        start = time.perf_counter()
        out = dispatch(ctx, Interaction(kind="search-type", method="GET", resource_type=resource_type,
                                        params=list(params)))
        samples.append(time.perf_counter() - start)
        total = out.resource.get("total", 0)
    return statistics.median(samples) * 1000, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    settings = Settings(mongodb_uri=None, base_url="http://bench/fhir", jwt_secret="bench-secret-bench-secret")
    store = open_store(settings)
    audit = AuditWriter(store)
    start = time.perf_counter()
    load_generated(store, settings, args.patients)
    print(f"loaded {args.patients} generated records in {time.perf_counter() - start:.1f} s (embedded store)")
    print(f"{'query':40} {'actor':24} {'p50 ms':>8} {'total':>6}")
    for name, (resource_type, params) in QUERIES.items():
        for who, actor in ACTORS.items():
            ms, total = time_search(store, settings, audit, actor, resource_type, params, args.runs)
            print(f"{name:40} {who:24} {ms:8.2f} {total:6}")


if __name__ == "__main__":
    main()
