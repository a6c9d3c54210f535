"""The seeded record for the audit tests, and how to find the traces one request wrote.

Loading `seed_data/` through the dispatcher takes about 3 s; the audit tests need it in almost every
test, so it is loaded once per session (with `load_seed`, exactly as `dmp-fhir seed` does) and its
stored documents are copied into each test's fresh store. The seed writes no AuditEvent, so the copy
is the same database `load_seed(store, settings)` would have produced.
"""

from __future__ import annotations

import os
import uuid

import pytest

from fhir_server.config import Settings
from fhir_server.main import open_store
from fhir_server.seeding import load_seed

from ..conftest import TEST_SECRET


@pytest.fixture(scope="session")
def seed_snapshot(tmp_path_factory) -> dict[str, list[dict]]:
    settings = Settings(mongodb_uri=os.environ.get("DMP_FHIR_MONGODB_URI"), db=f"test_seed_{uuid.uuid4().hex[:12]}",
                        jwt_secret=TEST_SECRET, base_url="http://testserver/fhir",
                        dev_secret_file=tmp_path_factory.mktemp("seed") / "dev-secret")
    store = open_store(settings)
    load_seed(store, settings)
    snapshot = {name: list(store.db[name].find()) for name in store.db.list_collection_names()
                if not name.startswith("system.")}
    if not store.embedded:
        store.client.drop_database(settings.db)
    assert not snapshot.get("AuditEvent"), "the seed writes no trace"
    return snapshot


@pytest.fixture
def seeded(store, seed_snapshot):
    """The test's store, holding the seed (20 patients, 18 professionals, 57 documents …)."""
    for name, docs in seed_snapshot.items():
        if docs:
            store.db[name].insert_many(docs)   # the driver copies what it stores
    return store
