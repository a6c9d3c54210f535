"""A fresh embedded store per test, and a small vocabulary to fill it and search it."""

from __future__ import annotations

import itertools
import os
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

import pytest

from fhir_server.search.engine import run_search
from fhir_server.search.index import extract_index
from fhir_server.search.indexes import index_declarations
from fhir_server.fhir_types import SUPPORTED_TYPES
from fhir_server.storage.base import Write
from fhir_server.storage.mongo import MongoStore

BASE = "http://testserver/fhir"
_clock = itertools.count()


class Db:
    """The store plus what a test needs: put/update/delete resources, run searches, read ids back."""

    def __init__(self, store: MongoStore):
        self.store = store
        self.versions: dict[tuple[str, str], int] = {}

    def put(self, resource: dict, id: str | None = None, *, last_updated: str | None = None) -> dict:
        rtype = resource["resourceType"]
        id = id or resource.get("id") or uuid.uuid4().hex[:12]
        previous = self.versions.get((rtype, id))
        lu = (datetime.fromisoformat(last_updated.replace("Z", "+00:00")) if last_updated else
              datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=next(_clock)))
        resource = {**resource, "id": id, "meta": {**resource.get("meta", {}), "versionId": str((previous or 0) + 1),
                                                   "lastUpdated": lu.isoformat(timespec="milliseconds")}}
        self.store.write(Write(rtype, id, resource, extract_index(resource, base_url=BASE), {}, previous), lu)
        self.versions[(rtype, id)] = (previous or 0) + 1
        return resource

    def delete(self, rtype: str, id: str) -> None:
        previous = self.versions[(rtype, id)]
        lu = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=next(_clock))
        self.store.write(Write(rtype, id, None, {}, {}, previous, deleted=True), lu)
        self.versions[(rtype, id)] = previous + 1

    def search(self, rtype: str | None, query: str = "", **kw) -> dict:
        return run_search(self.store, rtype, parse_qsl(query, keep_blank_values=True), base_url=BASE, **kw)

    def ids(self, rtype: str | None, query: str = "", **kw) -> set[str]:
        return {e["resource"]["id"] for e in self.search(rtype, query, **kw).get("entry", [])
                if e["search"]["mode"] == "match"}


@pytest.fixture
def db() -> Db:
    store = MongoStore.connect(os.environ.get("DMP_FHIR_MONGODB_URI"), f"search_{uuid.uuid4().hex[:10]}")
    store.ensure_indexes({t: index_declarations(t) for t in SUPPORTED_TYPES} if not store.embedded else {})
    yield Db(store)
    if not store.embedded:
        store.client.drop_database(store.db.name)
