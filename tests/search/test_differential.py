"""Differential: the same data on the embedded store and on the server of DMP_FHIR_MONGODB_URI gives the same
matches, in the same order, for every search the server serves (issue 13). Searches that need a capability the
server lacks (FerretDB: `$elemMatch` on sub-documents) run only where it has it."""

from __future__ import annotations

import os
import uuid
from urllib.parse import parse_qsl

import pytest

from fhir_server.config import Settings
from fhir_server.main import open_store
from fhir_server.search.engine import run_search
from fhir_server.seeding import load_seed

from ..conftest import TEST_SECRET
from ..stores import requires

BASE = "http://testserver/fhir"
CLAIRE = "Patient/pat-claire-martin"
SERVED = [
    "Patient?_sort=_id",
    "Patient?family=martin&_sort=_id",
    "Patient?name=cla&_sort=-_id",
    "Patient?gender=female&_sort=family,_id",
    "Patient?_id=pat-claire-martin,pat-gerard-bonnet",
    "Patient?general-practitioner:missing=true&_sort=_id",
    "Patient?_has:DocumentReference:subject:status=current&_sort=_id",
    "Patient?general-practitioner=Practitioner/pra-antoine-lefebvre&_sort=_id",
    "Practitioner?name:contains=an&_sort=family,_id",
    "Organization?name:exact=Clinique du Parc Blandan",
    f"DocumentReference?patient={CLAIRE}&_sort=_id",
    f"DocumentReference?patient={CLAIRE}&status=current&_count=3&_sort=-_id",
    "DocumentReference?type=http://loinc.org|11488-4&_sort=_id",
    "DocumentReference?type:not=http://loinc.org|11488-4&_sort=_id&_count=10",
    "DocumentReference?author=Practitioner/pra-nathalie-fontaine&_include=DocumentReference:author&_sort=_id",
    "DocumentReference?subject:Patient.family=martin&_sort=_id",
    f"Consent?patient={CLAIRE}&_sort=_id",
    "Communication?_sort=_id",
    "CareTeam?_sort=_id&_revinclude=Patient:general-practitioner",
]
NEEDS_ELEMMATCH_SUBDOCUMENTS = [
    "Patient?birthdate=ge1980&_sort=_id",
    f"DocumentReference?patient={CLAIRE}&date=ge2026-01-01&_sort=_id",
    "Patient?_sort=birthdate,_id",
]


def _seeded(uri: str | None, tmp_path_factory):
    settings = Settings(mongodb_uri=uri, db=f"test_diff_{uuid.uuid4().hex[:12]}", jwt_secret=TEST_SECRET,
                        base_url=BASE, dev_secret_file=tmp_path_factory.mktemp("diff") / "dev-secret")
    store = open_store(settings)
    load_seed(store, settings)
    return store


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """The seed on a fresh embedded store and on a fresh database of the server (`shared_store`: a server)."""
    embedded = _seeded(None, tmp_path_factory)
    server = _seeded(os.environ["DMP_FHIR_MONGODB_URI"], tmp_path_factory)
    yield embedded, server
    server.client.drop_database(server.db.name)


def _matches(store, query: str) -> tuple[list[tuple[str, str, str]], int | None]:
    rtype, _, text = query.partition("?")
    bundle = run_search(store, rtype, parse_qsl(text, keep_blank_values=True), base_url=BASE)
    entries = [(e["search"]["mode"], e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]]
    return entries, bundle.get("total")


def _same_on_both(stores, query: str) -> None:
    embedded, server = stores
    expected = _matches(embedded, query)
    assert expected[0], f"{query} finds nothing: it would compare empty with empty"
    assert _matches(server, query) == expected


@requires("shared_store")
@pytest.mark.parametrize("query", SERVED)
def test_same_ids_in_the_same_order_on_both_stores(stores, query):
    _same_on_both(stores, query)


@requires("shared_store", "elemmatch_subdocuments")
@pytest.mark.parametrize("query", NEEDS_ELEMMATCH_SUBDOCUMENTS)
def test_date_searches_agree_where_the_server_serves_them(stores, query):
    _same_on_both(stores, query)
