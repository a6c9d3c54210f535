"""What the store under test can do (fhir_server/storage/mongo.py names the capabilities).

`@requires("elemmatch_subdocuments")` on a test skips it, naming the capability, only when the store the suite
runs on (DMP_FHIR_MONGODB_URI, or the embedded one) lacks it: no test is skipped without a named reason."""

from __future__ import annotations

import functools
import os
import uuid

import pytest

from fhir_server.storage.mongo import MongoStore


def requires(*capabilities: str):
    return pytest.mark.requires(*capabilities)


@functools.cache
def store_capabilities() -> frozenset[str]:
    """Detected once per run, on a scratch database of the configured server."""
    name = f"test_caps_{uuid.uuid4().hex[:12]}"
    store = MongoStore.connect(os.environ.get("DMP_FHIR_MONGODB_URI"), name)
    try:
        return store.capabilities
    finally:
        if not store.embedded:
            store.client.drop_database(name)
            store.client.close()


def missing_capabilities(item: pytest.Item) -> list[str]:
    wanted = [c for mark in item.iter_markers("requires") for c in mark.args]
    return [c for c in wanted if c not in store_capabilities()] if wanted else []
