"""Store round-trips per interaction, and documents fetched vs returned, at two sizes: none may grow with N.

    python benchmarks/roundtrips.py                      # N = 1000 and 10000 generated records (slow to load)
    python benchmarks/roundtrips.py --sizes 500 2000
    DMP_FHIR_MONGODB_URI=mongodb://127.0.0.1:PORT/ python benchmarks/roundtrips.py --sizes 1000

Each size loads `dmp-fhir seed --patients N` (synthetic.py) into a fresh store, then dispatches each interaction
in-process, as the médecin traitant of one record, through a store that counts its calls: every call to the
store is one round-trip on MongoDB (a unit of work's begin/commit excepted). It prints round-trips, documents the
store handed back, resources in the answer, and whether every query was served by a declared index
(`search.indexes.served`, as benchmarks/search.py checks it).
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fhir_server.access.acl import ACL_INDEXES, COMMON_ACL_INDEXES  # noqa: E402
from fhir_server.audit.writer import AuditWriter  # noqa: E402
from fhir_server.auth.actor import Actor, Scope  # noqa: E402
from fhir_server.config import Settings  # noqa: E402
from fhir_server.main import open_store  # noqa: E402
from fhir_server.search.indexes import index_declarations, served  # noqa: E402
from fhir_server.services.context import Context, Interaction  # noqa: E402
from fhir_server.services.dispatch import dispatch  # noqa: E402
from fhir_server.synthetic import load_generated  # noqa: E402

READS = {"read", "read_doc", "vread", "find_raw"}
LISTS = {"find", "history"}
COUNTS = {"count", "count_history"}
WRITES = {"write", "insert", "insert_many", "replace_raw", "purge"}
PATIENT = "syn-pat-7"
GP = Actor(reference="Practitioner/syn-gp-0", scopes=(Scope("user", "*", "cruds"),))


class CountingStore:
    """The store, counting round-trips and fetched documents, and checking every filter against the indexes."""

    def __init__(self, store):
        self._store = store
        self.trips = self.fetched = 0
        self.unserved: list[str] = []

    def versions(self, collections):
        """None, as a database server answers: the policy reads its facts in every request (access/memo.py keeps
        them across requests on the embedded store only), so the trips counted are a server's."""
        return None

    def __getattr__(self, name):
        attr = getattr(self._store, name)
        if name not in READS | LISTS | COUNTS | WRITES:
            return attr

        def counted(*args, **kwargs):
            self.trips += 1
            if name in ("find", "count") and args[0] not in ("history",):
                self._check(args[0], args[1])
            result = attr(*args, **kwargs)
            if name in READS:
                self.fetched += result is not None
            elif name in LISTS:
                self.fetched += len(result)
            return result
        return counted

    def _check(self, collection: str, filter: dict) -> None:
        keys = {k[0][0] for k in index_declarations(collection)} | {"_id"}
        keys |= {k[0][0] for k in ACL_INDEXES.get(collection, []) + COMMON_ACL_INDEXES}
        if filter and not served(filter, keys):
            self.unserved.append(f"{collection} {filter}"[:200])


def interactions() -> dict:
    obs = {"resourceType": "Observation", "status": "final", "subject": {"reference": f"Patient/{PATIENT}"},
           "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
           "valueQuantity": {"value": 70, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}
    doc_search = [("patient", f"Patient/{PATIENT}"), ("_include", "DocumentReference:author")]
    return {
        "read Patient": lambda: Interaction(kind="read", method="GET", resource_type="Patient", id=PATIENT),
        "search DocumentReference + _include": lambda: Interaction(kind="search-type", method="GET",
                                                                  resource_type="DocumentReference", params=doc_search),
        "search Patient + _revinclude": lambda: Interaction(
            kind="search-type", method="GET", resource_type="Patient",
            params=[("_id", PATIENT), ("_revinclude", "DocumentReference:subject")]),
        "$everything": lambda: Interaction(kind="operation", method="GET", resource_type="Patient", id=PATIENT,
                                           operation="everything"),
        "search across all my records": lambda: Interaction(kind="search-type", method="GET",
                                                            resource_type="DocumentReference",
                                                            params=[("status", "current"), ("_count", "20")]),
        "create Observation": lambda: Interaction(kind="create", method="POST", resource_type="Observation",
                                                  body=dict(obs)),
        "transaction of 10": lambda: Interaction(kind="bundle", method="POST", body={
            "resourceType": "Bundle", "type": "transaction",
            "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": dict(obs),
                       "request": {"method": "POST", "url": "Observation"}} for _ in range(10)]}),
    }


def returned(out) -> int:
    body = out.resource or {}
    if body.get("resourceType") == "Bundle":
        return sum(1 for e in body.get("entry", []) if e.get("resource", {}).get("resourceType") != "OperationOutcome")
    return 1 if body else 0


def measure(n: int) -> dict[str, tuple[int, int, int, list[str]]]:
    settings = Settings(mongodb_uri=os.environ.get("DMP_FHIR_MONGODB_URI"), db=f"rt_{uuid.uuid4().hex[:8]}",
                        jwt_secret="benchmark-secret-benchmark-secret", base_url="http://bench/fhir")
    store = open_store(settings)
    try:
        load_generated(store, settings, n, AuditWriter(store))
        counting = CountingStore(store)
        audit = AuditWriter(counting)
        results = {}
        for name, make in interactions().items():
            ctx = Context(store=counting, settings=settings, actor=GP, base_url=settings.base_url, audit=audit)
            dispatch(ctx, make())        # warm: the embedded store's first query on a field builds its index
            counting.trips = counting.fetched = 0
            counting.unserved = []
            ctx = Context(store=counting, settings=settings, actor=GP, base_url=settings.base_url, audit=audit)
            out = dispatch(ctx, make())
            results[name] = (counting.trips, counting.fetched, returned(out), counting.unserved)
        return results
    finally:
        if not store.embedded:
            store.client.drop_database(settings.db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    table = {n: measure(n) for n in args.sizes}
    names = list(next(iter(table.values())))
    print(f"{'interaction':38}" + "".join(f"{f'N={n:,}: trips':>16}{'fetched':>9}{'returned':>9}" for n in args.sizes)
          + "  indexed")
    for name in names:
        row = "".join(f"{table[n][name][0]:16}{table[n][name][1]:9}{table[n][name][2]:9}" for n in args.sizes)
        unserved = [u for n in args.sizes for u in table[n][name][3]]
        print(f"{name:38}{row}  {'yes' if not unserved else 'NO: ' + '; '.join(unserved[:2])}")


if __name__ == "__main__":
    main()
