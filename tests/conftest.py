"""Every test gets its own store: a fresh embedded one, or a fresh database on DMP_FHIR_MONGODB_URI."""

from __future__ import annotations

import os
import uuid

import pytest
from fastapi.testclient import TestClient

from fhir_server.config import Settings
from fhir_server.main import create_app

from .stores import missing_capabilities

TEST_SECRET = "test-secret-for-hs256-tokens-only-in-tests"


def pytest_runtest_setup(item):
    missing = missing_capabilities(item)
    if missing:
        pytest.skip(f"the store lacks capability {', '.join(missing)}")


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(mongodb_uri=os.environ.get("DMP_FHIR_MONGODB_URI"), db=f"test_{uuid.uuid4().hex[:12]}",
                    jwt_secret=TEST_SECRET, base_url="http://testserver/fhir",
                    dev_secret_file=tmp_path / "dev-secret")


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    if not app.state.store.embedded:
        app.state.store.client.drop_database(settings.db)


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)


@pytest.fixture
def store(app):
    return app.state.store


class Api:
    """A client acting as one actor: `api.get("Patient/1")` with its bearer token."""

    def __init__(self, client: TestClient, token: str):
        self.client, self.token = client, token

    def headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/fhir+json", **(extra or {})}

    def request(self, method: str, path: str, json=None, headers: dict | None = None, **kw):
        return self.client.request(method, f"/fhir/{path}".rstrip("/"), json=json, headers=self.headers(headers), **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def token_for(app, sub: str, **kw) -> str:
    return app.state.tokens.mint(sub, **kw)


@pytest.fixture
def system(app, client) -> Api:
    """A trusted system (the insurer's feed, seeding): every right."""
    return Api(client, token_for(app, "Device/test-system", scope="system/*.cruds"))


@pytest.fixture
def as_actor(app, client):
    def make(sub: str, **kw) -> Api:
        return Api(client, token_for(app, sub, **kw))
    return make
