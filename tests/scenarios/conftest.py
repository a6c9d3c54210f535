"""The scenarios use the access tests' fixtures (seeded stores, actors)."""

from tests.access.conftest import *  # noqa: F401,F403
