"""The write-time costs per resource: structural validation, profile check, search index extraction.

    python benchmarks/extraction.py [--runs 500]

Uses the PDSm example DocumentReference and Patient (shared/ig beside the repository) and a seeded document."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from fhir_server.search.index import extract_index
from fhir_server.validation.profiles import profile_issues
from fhir_server.validation.structure import validate_resource

ROOT = Path(__file__).resolve().parent.parent
IG = ROOT.parent / "shared" / "ig" / "ans.fhir.fr.pdsm-3.1.1" / "example"


def samples() -> dict[str, dict]:
    seed = json.loads((ROOT / "seed_data" / "05-documents.json").read_text())
    out = {"seeded DocumentReference": next(e["resource"] for e in seed["entry"]
                                            if e["resource"]["resourceType"] == "DocumentReference")}
    if IG.is_dir():
        out["PDSm DocumentReference (11 KB)"] = json.loads(
            (IG / "DocumentReference-exemple-pdsm-documentreference.json").read_text())
        out["PDSm Patient"] = json.loads((IG / "Patient-fr-patient-123.json").read_text())
    return out


def per_call(fn, resource: dict, runs: int) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        fn(resource)
    return (time.perf_counter() - start) / runs * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    print(f"{'resource':32} {'validate µs':>12} {'profile µs':>11} {'extract_index µs':>17}")
    for name, resource in samples().items():
        validate_resource(resource)     # the first call loads the models
        print(f"{name:32} {per_call(validate_resource, resource, args.runs):12.0f} "
              f"{per_call(profile_issues, resource, args.runs):11.0f} {per_call(extract_index, resource, args.runs):17.0f}")


if __name__ == "__main__":
    main()
