"""The cost of tracing: the same interactions dispatched in-process with and without the AuditEvent write.

    python benchmarks/audit.py [--runs 2000]

Prints µs per interaction for a read, a search and a create as a médecin traitant on the seeded
embedded store, with the audit on and off, and the trace write's share. (HTTP adds the same fixed cost
to both; benchmarks/rest.py measures it.)"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

from fhir_server.auth.actor import Actor, Scope
from fhir_server.services.context import Context, Interaction
from fhir_server.services.dispatch import dispatch

from seeded import seeded_app

GP = Actor(reference="Practitioner/pra-antoine-lefebvre", scopes=(Scope("user", "*", "cruds"),))
PATIENT = "pat-claire-martin"


def interactions() -> dict[str, callable]:
    doc = {"resourceType": "Observation", "status": "final", "subject": {"reference": f"Patient/{PATIENT}"},
           "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
           "valueQuantity": {"value": 70, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}
    return {
        "read Patient": lambda: Interaction(kind="read", method="GET", resource_type="Patient", id=PATIENT),
        "search DocumentReference": lambda: Interaction(kind="search-type", method="GET",
                                                        resource_type="DocumentReference",
                                                        params=[("patient", f"Patient/{PATIENT}")]),
        "create Observation": lambda: Interaction(kind="create", method="POST", resource_type="Observation",
                                                  body=dict(doc)),
    }


def measure(contexts: list[Context], make, runs: int) -> list[float]:
    """Median µs per context; the contexts take turns so that store growth weighs on each alike."""
    samples: list[list[float]] = [[] for _ in contexts]
    for _ in range(runs):
        for i, ctx in enumerate(contexts):
            it = make()
            start = time.perf_counter()
            dispatch(ctx, it)
            samples[i].append(time.perf_counter() - start)
    return [statistics.median(s) * 1e6 for s in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    app, settings = seeded_app()
    base = Context(store=app.state.store, settings=settings, actor=GP, base_url=settings.base_url, request_id="bench")
    print(f"{'interaction':28} {'audit on µs':>12} {'audit off µs':>13} {'trace share':>12}")
    for name, make in interactions().items():
        on, off = measure([replace(base, audit=app.state.audit), replace(base, audit=None)], make, args.runs)
        print(f"{name:28} {on:12.0f} {off:13.0f} {100 * (on - off) / on:11.0f}%")


if __name__ == "__main__":
    main()
