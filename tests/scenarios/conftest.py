"""Fixtures for the access-policy tests: the seed loaded once per module (read-only tests), a freshly
seeded store per test (tests that change the record), and `actors` on the test's own empty app."""

from __future__ import annotations

import os
import uuid

import pytest
from fastapi.testclient import TestClient

from fhir_server.config import Settings
from fhir_server.main import create_app
from fhir_server.seeding import load_seed
from tests.access.builders import Actors
from tests.conftest import TEST_SECRET


def _app(tmp_dir, *, seeded: bool):
    settings = Settings(mongodb_uri=os.environ.get("DMP_FHIR_MONGODB_URI"), db=f"test_{uuid.uuid4().hex[:12]}",
                        jwt_secret=TEST_SECRET, base_url="http://testserver/fhir",
                        dev_secret_file=tmp_dir / "dev-secret")
    app = create_app(settings)
    if seeded:
        load_seed(app.state.store, settings)
    return app, settings


def _drop(app, settings):
    if not app.state.store.embedded:
        app.state.store.client.drop_database(settings.db)


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> Actors:
    """The seed data set, shared by a module's tests: DO NOT change it in these tests."""
    app, settings = _app(tmp_path_factory.mktemp("seed"), seeded=True)
    yield Actors(app, TestClient(app))
    _drop(app, settings)


@pytest.fixture
def fresh_seed(tmp_path) -> Actors:
    """The seed data set in a store of this test's own (the test may change it)."""
    app, settings = _app(tmp_path, seeded=True)
    yield Actors(app, TestClient(app))
    _drop(app, settings)


@pytest.fixture
def actors(app, client) -> Actors:
    """The test's own empty store."""
    return Actors(app, client)


@pytest.fixture(scope="module")
def module_actors(tmp_path_factory) -> Actors:
    """An empty store shared by a module's tests (for a data set built once and only read)."""
    app, settings = _app(tmp_path_factory.mktemp("module"), seeded=False)
    yield Actors(app, TestClient(app))
    _drop(app, settings)
