"""Every request is traced, failures included (issue 9): an unexpected error leaves an AuditEvent with
outcome 8 and answers a 500 OperationOutcome without its stack trace; a write refused by validation is
traced in the record it was meant for, where the holder reads it."""

from __future__ import annotations

import pytest

from fhir_server.services import dispatch

from .data import weight
from .traces import only_trace, patients, request_id, requestor, send

CLAIRE = "pat-claire-martin"
LEFEBVRE = "Practitioner/pra-antoine-lefebvre"     # Claire's médecin traitant
SECRET_DETAIL = "boom: connection string mongodb://admin:hunter2@db"


@pytest.fixture
def broken(monkeypatch):
    """Make one interaction fail the way a bug would (not a FhirError)."""
    def breaking(kind: str):
        def boom(ctx, it):
            raise RuntimeError(SECRET_DETAIL)
        monkeypatch.setitem(dispatch.HANDLERS, kind, boom)
    return breaking


def _assert_internal_error(response, rid: str) -> None:
    assert response.status_code == 500
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "exception"
    assert body["issue"][0]["diagnostics"] == f"internal error (request {rid})"
    assert "hunter2" not in response.text and "Traceback" not in response.text


def test_unexpected_error_on_a_read_is_a_500_traced_with_outcome_8(seeded, as_actor, broken):
    broken("read")
    response, rid = send(as_actor(LEFEBVRE), "GET", f"Patient/{CLAIRE}")
    _assert_internal_error(response, rid)
    event = only_trace(seeded, rid)["res"]
    assert event["outcome"] == "8"
    assert event["outcomeDesc"].startswith("500")
    assert requestor(event)["who"] == {"reference": LEFEBVRE}


def test_unexpected_error_in_a_write_rolls_back_and_is_traced_with_outcome_8(seeded, as_actor, broken, monkeypatch):
    real_create = dispatch.HANDLERS["create"]

    def create_then_fail(ctx, it):
        real_create(ctx, it)
        raise RuntimeError(SECRET_DETAIL)
    monkeypatch.setitem(dispatch.HANDLERS, "create", create_then_fail)
    before = seeded.count("Observation", {})
    response, rid = send(as_actor(LEFEBVRE), "POST", "Observation", weight(CLAIRE))
    _assert_internal_error(response, rid)
    assert seeded.count("Observation", {}) == before
    doc = only_trace(seeded, rid)
    assert doc["res"]["outcome"] == "8" and doc["_chain"]["key"] == CLAIRE


def test_unexpected_error_in_a_batch_entry_is_that_entry_500(seeded, as_actor, broken):
    broken("read")
    bundle = {"resourceType": "Bundle", "type": "batch",
              "entry": [{"request": {"method": "GET", "url": f"Patient/{CLAIRE}"}}]}
    response, rid = send(as_actor(LEFEBVRE), "POST", "", bundle)
    assert response.status_code == 200
    entry = response.json()["entry"][0]["response"]
    assert entry["status"] == "500" and "hunter2" not in str(entry)
    assert only_trace(seeded, rid)["res"]["outcome"] == "8"


def _holder_sees(as_actor, rid: str) -> dict:
    bundle = as_actor(f"Patient/{CLAIRE}").get(f"AuditEvent?patient=Patient/{CLAIRE}&_count=1000").json()
    found = [e["resource"] for e in bundle["entry"] if request_id(e["resource"]) == rid]
    assert len(found) == 1, "the holder does not see the refused attempt"
    return found[0]


def test_create_refused_by_validation_is_traced_in_the_patients_record(seeded, as_actor):
    response, rid = send(as_actor(LEFEBVRE), "POST", "Observation", {**weight(CLAIRE), "status": "bogus"})
    assert response.status_code == 422
    event = _holder_sees(as_actor, rid)
    assert event["outcome"] == "4" and event["outcomeDesc"].startswith("422")
    assert event["action"] == "C"
    assert patients(event) == [f"Patient/{CLAIRE}"]
    assert requestor(event)["who"] == {"reference": LEFEBVRE}


def test_update_refused_by_validation_is_traced_in_the_stored_resources_record(seeded, as_actor):
    gp = as_actor(LEFEBVRE)
    created = gp.post("Observation", weight(CLAIRE)).json()
    invalid = {**weight(CLAIRE), "id": created["id"], "subject": {"reference": 42}}   # names no patient now
    response, rid = send(gp, "PUT", f"Observation/{created['id']}", invalid)
    assert response.status_code == 422
    event = _holder_sees(as_actor, rid)
    assert patients(event) == [f"Patient/{CLAIRE}"]


def test_invalid_create_for_a_patient_that_does_not_exist_opens_no_chain(seeded, as_actor):
    response, rid = send(as_actor(LEFEBVRE), "POST", "Observation", {**weight("nobody-here"), "status": "bogus"})
    assert response.status_code == 422
    doc = only_trace(seeded, rid)
    assert patients(doc["res"]) == [] and doc["_acl"]["patients"] == []
