"""`dmp-fhir serve` as it ships, plus a report of the store's integrity once it has shut down.

The soak test runs this as a process: `python tests/soak/server.py serve --port P`. On the embedded store
nobody but the server process can read its data, so after uvicorn's graceful shutdown (SIGTERM) this
prints one JSON line on stdout: the audit chains checked (`audit verify`) and every gap in a resource's
version history.
"""

from __future__ import annotations

import sys

import orjson

from fhir_server import cli, main
from fhir_server.audit.writer import COLLECTION, verify
from fhir_server.storage.mongo import HISTORY

opened = []


def _capture(open_store):
    def wrapper(settings):
        store = open_store(settings)
        opened.append(store)
        return store
    return wrapper


def version_gaps(store) -> list[str]:
    """Resources whose versions are not exactly 1..current, in history and in the current document."""
    versions: dict[tuple[str, str], list[int]] = {}
    for doc in store.find(HISTORY, {}, projection={"type": 1, "id": 1, "v": 1}):
        versions.setdefault((doc["type"], doc["id"]), []).append(doc["v"])
    gaps = []
    for (type_, id_), seen in versions.items():
        current = store.read_doc(type_, id_)
        if sorted(seen) != list(range(1, len(seen) + 1)) or current is None or current["v"] != len(seen):
            gaps.append(f"{type_}/{id_}: history {sorted(seen)}, current {current and current['v']}")
    return gaps


def traced_requests(store) -> list[str]:
    """The request ids the stored traces name (BALP XrequestId entity)."""
    ids = set()
    for doc in store.find(COLLECTION, {}, projection={"res.entity": 1}):
        for entity in doc["res"].get("entity", []):
            if entity.get("type", {}).get("code") == "XrequestId":
                ids.add(entity["what"]["identifier"]["value"])
    return sorted(ids)


def report(store) -> dict:
    checked, broken = verify(store)
    return {"traces_checked": checked, "broken_chains": [str(b) for b in broken], "version_gaps": version_gaps(store),
            "traced_requests": traced_requests(store)}


if __name__ == "__main__":
    main.open_store = _capture(main.open_store)
    try:
        status = cli.main(sys.argv[1:])
    except SystemExit as stop:      # serve turns uvicorn's re-raised SIGTERM into a clean exit
        status = stop.code
    for store in opened:
        print(orjson.dumps(report(store)).decode(), flush=True)
    sys.exit(status)
