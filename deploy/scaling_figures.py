"""The figures deploy/SCALING.md rests on: stored document sizes and the index list of every collection.

    PYTHONPATH=. python3 deploy/scaling_figures.py [--patients 20]

Loads seed_data/ and N generated records (fhir_server/synthetic.py) into an embedded store, then prints per
collection the document count and the average and largest BSON size of the stored documents (FHIR JSON plus
the server fields `_idx`, `_acl`, `_chain`), then the indexes the server declares (the same declarations
main.open_store and audit.writer build on MongoDB).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import bson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fhir_server.access.acl import ACL_INDEXES, COMMON_ACL_INDEXES  # noqa: E402
from fhir_server.audit.writer import CHAIN_INDEX, AuditWriter  # noqa: E402
from fhir_server.config import Settings  # noqa: E402
from fhir_server.fhir_types import SUPPORTED_TYPES  # noqa: E402
from fhir_server.main import open_store  # noqa: E402
from fhir_server.search.indexes import index_declarations  # noqa: E402
from fhir_server.seeding import load_seed  # noqa: E402
from fhir_server.storage.mongo import HISTORY, HISTORY_INDEXES  # noqa: E402
from fhir_server.synthetic import load_generated  # noqa: E402


def sizes(store, declared: dict[str, list]) -> list[tuple[str, int, float, int, float]]:
    """Per collection (history per resource type): count, average and largest BSON size, index entries."""
    groups: dict[str, list[dict]] = {}
    for name in store.db.list_collection_names():
        for doc in store.db[name].find():
            groups.setdefault(f"history/{doc['type']}" if name == HISTORY else name, []).append(doc)
    rows = []
    for name, docs in sorted(groups.items()):
        lengths = [len(bson.encode(doc)) for doc in docs]
        key_lists = declared.get(HISTORY if name.startswith("history/") else name, [])
        entries = sum(index_entries(doc, key_lists) for doc in docs) / len(docs)
        rows.append((name, len(docs), sum(lengths) / len(lengths), max(lengths), entries))
    return rows


def index_entries(doc: dict, key_lists: list) -> int:
    """Index keys one document costs: one per index (missing fields are indexed as null, the indexes are not
    sparse) and one per array element of a multikey index; `_id` included."""
    return 1 + sum(max(1, len(_values(doc, keys[0][0].split(".")))) for keys in key_lists)


def _values(value, path: list[str]) -> list:
    if isinstance(value, list):
        return [v for item in value for v in _values(item, path)]
    if not path:
        return [value]
    return _values(value.get(path[0]), path[1:]) if isinstance(value, dict) and path[0] in value else []


def indexes() -> dict[str, list]:
    declared = {t: index_declarations(t) + ACL_INDEXES.get(t, []) + COMMON_ACL_INDEXES for t in SUPPORTED_TYPES}
    declared[HISTORY] = HISTORY_INDEXES
    declared["AuditEvent"] = declared["AuditEvent"] + [CHAIN_INDEX]    # unique, on MongoDB only
    return declared


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=20, help="generated records added to the seed data")
    args = parser.parse_args()
    settings = Settings(mongodb_uri=None, jwt_secret="figures-only-not-a-secret-figures-only")
    store = open_store(settings)
    load_seed(store, settings)
    load_generated(store, settings, args.patients, AuditWriter(store))
    declared = indexes()
    print(f"{'collection':32} {'docs':>6} {'avg bytes':>10} {'max bytes':>10} {'index keys/doc':>15}")
    for name, count, average, largest, entries in sizes(store, declared):
        print(f"{name:32} {count:6} {average:10.0f} {largest:10} {entries:15.1f}")
    print()
    for name, key_lists in sorted(declared.items()):
        print(f"{name} ({len(key_lists) + 1} indexes with _id):")
        for keys in key_lists:
            print("   ", ", ".join(f"{k} {d}" for k, d in keys))


if __name__ == "__main__":
    main()
