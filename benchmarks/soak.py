"""The soak of tests/soak/ as figures: throughput and p50/p99 per kind of request, and the integrity checks.

    python benchmarks/soak.py                       # 16 clients, 20 s, embedded store
    python benchmarks/soak.py --clients 32 --seconds 60
    DMP_FHIR_MONGODB_URI=mongodb://127.0.0.1:27017/ python benchmarks/soak.py   # the server on that database

Traffic goes to 127.0.0.1 only; every request has a 10 s timeout; the run stops by itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.soak.load import soak  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    run, report, _ = soak(clients=args.clients, seconds=args.seconds)
    print(f"{args.clients} clients, {run.seconds:.1f} s, {run.total()} requests, {run.total() / run.seconds:.0f} req/s")
    print(f"{'kind':<20} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for kind in sorted(run.latencies):
        count = len(run.latencies[kind])
        statuses = ", ".join(f"{s}×{n}" for s, n in sorted(run.statuses[kind].items(), key=str))
        print(f"{kind:<20} {count:>8} {count / run.seconds:>7.1f} {run.percentile(kind, 50):>8.1f} "
              f"{run.percentile(kind, 99):>8.1f}  {statuses}")
    print(f"unexpected answers: {len(run.unexpected)}", *run.unexpected[:10], sep="\n  ")
    if report:
        print(f"audit: {report['traces_checked']} traces checked, {len(report['broken_chains'])} broken chains; "
              f"version gaps: {len(report['version_gaps'])}")
    ok = not run.unexpected and report and not report["broken_chains"] and not report["version_gaps"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
