"""The seeded embedded app that the in-process benchmarks (audit.py, costs.py) dispatch into."""

from __future__ import annotations

from fhir_server.config import Settings
from fhir_server.main import create_app
from fhir_server.seeding import load_seed


def seeded_app():
    """(app, settings): a fresh embedded store holding the seed data set."""
    settings = Settings(jwt_secret="benchmark-secret-benchmark-secret", base_url="http://bench/fhir")
    app = create_app(settings)
    load_seed(app.state.store, settings)
    return app, settings
