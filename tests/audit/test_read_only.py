"""AuditEvent is written by the server only: create, update, delete and patch are 405 through the API,
for every actor, directly, conditionally or inside a Bundle (issue 5, "Deliver" 3)."""

from __future__ import annotations

import pytest

from fhir_server.audit.writer import COLLECTION

from .traces import send, stored_traces

FORGED = {"resourceType": "AuditEvent", "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
                                                 "code": "rest"},
          "recorded": "2026-11-22T10:00:00Z", "agent": [{"who": {"reference": "Device/x"}, "requestor": True}],
          "source": {"observer": {"reference": "Device/x"}}}
JSON_PATCH = [{"op": "replace", "path": "/outcome", "value": "0"}]


@pytest.fixture
def a_trace(seeded, as_actor) -> dict:
    response, rid = send(as_actor("Practitioner/pra-yann-le-gall"), "GET", "Patient/pat-claire-martin")
    assert response.status_code == 403
    (doc,) = stored_traces(seeded, rid)
    return doc


def _attempts(trace_id: str):
    return [
        ("POST", "AuditEvent", FORGED, {}),
        ("PUT", f"AuditEvent/{trace_id}", {**FORGED, "id": trace_id}, {}),
        ("DELETE", f"AuditEvent/{trace_id}", None, {}),
        ("PATCH", f"AuditEvent/{trace_id}", JSON_PATCH, {"Content-Type": "application/json-patch+json"}),
        ("PUT", "AuditEvent?patient=Patient/pat-claire-martin", FORGED, {}),
        ("DELETE", "AuditEvent?patient=Patient/pat-claire-martin", None, {}),
        ("PATCH", "AuditEvent?patient=Patient/pat-claire-martin", JSON_PATCH,
         {"Content-Type": "application/json-patch+json"}),
    ]


@pytest.mark.parametrize("who", ["system", "holder", "mt"])
def test_writes_to_audit_event_are_405_and_change_nothing(seeded, a_trace, system, as_actor, who):
    api = {"system": system, "holder": as_actor("Patient/pat-claire-martin"),
           "mt": as_actor("Practitioner/pra-antoine-lefebvre")}[who]
    stored = seeded.find(COLLECTION, {"_id": a_trace["_id"]})
    for method, path, body, headers in _attempts(a_trace["_id"]):
        response, _ = send(api, method, path, body, headers)
        assert response.status_code == 405, (method, path, response.text)
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert [i["code"] for i in outcome["issue"]] == ["not-supported"]
        assert "AuditEvent" in outcome["issue"][0]["diagnostics"]
    assert seeded.find(COLLECTION, {"_id": a_trace["_id"]}) == stored
    assert not seeded.find(COLLECTION, {"res.source.observer.reference": "Device/x"})


def test_audit_event_in_a_transaction_is_405_and_nothing_is_stored(seeded, system):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:9a7e0c52-0000-4000-8000-000000000001", "resource": FORGED,
         "request": {"method": "POST", "url": "AuditEvent"}}]}
    response, _ = send(system, "POST", "", bundle)
    assert response.status_code == 405
    assert response.json()["issue"][0]["code"] == "not-supported"
    assert not seeded.find(COLLECTION, {"res.source.observer.reference": "Device/x"})


def test_audit_event_in_a_batch_is_refused_entry_by_entry(seeded, system):
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": FORGED, "request": {"method": "POST", "url": "AuditEvent"}}]}
    response, _ = send(system, "POST", "", bundle)
    assert response.status_code == 200
    assert response.json()["entry"][0]["response"]["status"].startswith("405")
    assert not seeded.find(COLLECTION, {"res.source.observer.reference": "Device/x"})


def test_post_search_on_audit_event_is_a_search_not_a_write(seeded, a_trace, system):
    response = system.client.post("/fhir/AuditEvent/_search", data={"patient": "Patient/pat-claire-martin"},
                                  headers={"Authorization": f"Bearer {system.token}"})
    assert response.status_code == 200
    assert a_trace["_id"] in {e["resource"]["id"] for e in response.json()["entry"]}


def test_capability_statement_offers_no_write_on_audit_event(client):
    (rest,) = client.get("/fhir/metadata").json()["rest"]
    (audit,) = [r for r in rest["resource"] if r["type"] == "AuditEvent"]
    codes = {i["code"] for i in audit["interaction"]}
    assert {"read", "search-type"} <= codes
    assert not codes & {"create", "update", "patch", "delete"}


def test_instance_history_of_a_trace_lists_its_one_version(seeded, a_trace, system):
    response = system.get(f"AuditEvent/{a_trace['_id']}/_history")
    assert response.status_code == 200
    assert [e["resource"]["id"] for e in response.json().get("entry", [])] == [a_trace["_id"]]


def test_vread_of_a_trace_gives_its_one_version(seeded, a_trace, system):
    response = system.get(f"AuditEvent/{a_trace['_id']}/_history/1")
    assert response.status_code == 200
    assert response.json()["id"] == a_trace["_id"]
    assert response.json()["meta"]["versionId"] == "1"
