"""No untraced access: when the trace cannot be written the request fails with 503 and returns no data,
and a write whose trace fails is not stored (issue 5, "Deliver" 2)."""

from __future__ import annotations

import pytest
from pymongo.errors import AutoReconnect

from fhir_server.audit.writer import COLLECTION, verify
from fhir_server.errors import ServiceUnavailable
from fhir_server.storage import embedded

from .. import factories
from .data import weight
from .traces import chain, send

LEFEBVRE = "Practitioner/pra-antoine-lefebvre"
CLAIRE = "pat-claire-martin"


@pytest.fixture(params=["writer", "store"])
def audit_down(request, app, store, monkeypatch):
    """The audit write fails: either the writer itself or the store's insert into the AuditEvent collection."""
    def refuse(*args, **kwargs):
        raise ServiceUnavailable("the access trace could not be written")
    if request.param == "writer":
        monkeypatch.setattr(app.state.audit, "append", refuse)
    else:
        insert_many = store.insert_many
        monkeypatch.setattr(store, "insert_many", lambda collection, docs, uow=None, **kwargs:
                            refuse() if collection == COLLECTION else insert_many(collection, docs, uow, **kwargs))
    return request.param


def assert_503_without_data(response, *secrets: str) -> None:
    assert response.status_code == 503
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "transient"
    for secret in secrets:
        assert secret not in response.text


def test_read_fails_with_503_and_no_data_when_the_trace_cannot_be_written(seeded, as_actor, audit_down):
    response, _ = send(as_actor(LEFEBVRE), "GET", f"Patient/{CLAIRE}")
    assert_503_without_data(response, "284066938441230", "Martin", CLAIRE)


def test_search_fails_with_503_and_no_bundle(seeded, as_actor, audit_down):
    response, _ = send(as_actor(LEFEBVRE), "GET", f"DocumentReference?patient={CLAIRE}")
    assert_503_without_data(response, "doc-claire-martin", "Bundle")


def test_everything_fails_with_503_and_no_bundle(seeded, as_actor, audit_down):
    response, _ = send(as_actor(LEFEBVRE), "GET", "Patient/pat-gerard-bonnet/$everything")
    assert_503_without_data(response, "doc-gerard-bonnet", "Bundle")


def test_create_fails_with_503_and_stores_nothing(seeded, system, audit_down):
    patients, history = seeded.count("Patient", {}), seeded.count("history", {})
    new = factories.patient(ins="290017512345678", family="Lemaire", given="Odile")
    response, _ = send(system, "POST", "Patient", new)
    assert_503_without_data(response, "Lemaire")
    assert seeded.count("Patient", {}) == patients
    assert seeded.find("Patient", {"res.name.family": "Lemaire"}) == []
    assert seeded.count("history", {}) == history


def test_create_on_an_empty_store_fails_and_leaves_no_patient(store, system, audit_down):
    response, _ = send(system, "POST", "Patient", factories.patient())
    assert response.status_code == 503
    assert store.find("Patient", {}) == []


def test_update_fails_with_503_and_keeps_the_old_version(seeded, as_actor, audit_down):
    api = as_actor("Patient/pat-lucie-barbier")
    doc = seeded.read("DocumentReference", "doc-lucie-barbier-certificat-vaccination-2026-05")
    changed = {**doc.resource, "status": "entered-in-error"}
    response, _ = send(api, "PUT", "DocumentReference/doc-lucie-barbier-certificat-vaccination-2026-05", changed)
    assert response.status_code == 503
    after = seeded.read("DocumentReference", "doc-lucie-barbier-certificat-vaccination-2026-05")
    assert (after.version, after.resource["status"]) == (doc.version, doc.resource["status"])


def test_transaction_fails_with_503_and_stores_nothing(seeded, as_actor, audit_down):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:1c5e4f3a-0000-4000-8000-000000000001", "resource": weight("pat-david-cohen"),
         "request": {"method": "POST", "url": "Observation"}}]}
    before = seeded.count("Observation", {})
    response, _ = send(as_actor("Practitioner/pra-isabelle-moreau"), "POST", "", bundle)
    assert response.status_code == 503
    assert seeded.count("Observation", {}) == before


def test_a_refusal_whose_trace_fails_is_503_not_403(seeded, as_actor, audit_down):
    """Even a denial must be traced; if it cannot be, the client learns nothing more than 'unavailable'."""
    response, _ = send(as_actor("Practitioner/pra-yann-le-gall"), "GET", f"Patient/{CLAIRE}")
    assert response.status_code == 503


def test_database_error_on_the_trace_insert_is_503(seeded, as_actor, monkeypatch):
    """A driver failure (not a ServiceUnavailable raised by our code) maps to 503 as well."""
    collection_class = type(seeded.db[COLLECTION])
    insert_many = collection_class.insert_many

    def failing(self, documents, *args, **kwargs):
        if self.name == COLLECTION:
            raise AutoReconnect("connection lost")
        return insert_many(self, documents, *args, **kwargs)
    monkeypatch.setattr(collection_class, "insert_many", failing)
    handed_over = embedded.insert_handed_over    # the embedded store keeps a trace without insert_many

    def failing_handed_over(collection, document, *args):
        if collection.name == COLLECTION:
            raise AutoReconnect("connection lost")
        return handed_over(collection, document, *args)
    monkeypatch.setattr(embedded, "insert_handed_over", failing_handed_over)
    response, _ = send(as_actor(LEFEBVRE), "GET", f"Patient/{CLAIRE}")
    assert_503_without_data(response, "284066938441230")


def test_chain_is_intact_once_the_audit_store_is_back(seeded, app, as_actor, monkeypatch):
    api = as_actor("Practitioner/pra-isabelle-moreau")
    send(api, "GET", "Patient/pat-david-cohen")
    with monkeypatch.context() as m:
        m.setattr(seeded, "insert_many", lambda *a, **k: (_ for _ in ()).throw(ServiceUnavailable("down")))
        failed, _ = send(api, "POST", "Observation", weight("pat-david-cohen"))
        assert failed.status_code == 503
    response, _ = send(api, "POST", "Observation", weight("pat-david-cohen"))
    assert response.status_code == 201
    assert [d["_chain"]["seq"] for d in chain(seeded, "pat-david-cohen")] == [1, 2]
    assert verify(seeded)[1] == []
