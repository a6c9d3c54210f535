"""IHE MHD replacement (DMP rule 13): a new DocumentReference with relatesTo.code = replaces supersedes its
target in the same unit of work; the target must be current, of the same patient, and one the submitter may
withdraw (the status rule of access/writes.py); transforms / appends are recorded (issue 11, item 10)."""

from __future__ import annotations

import pytest

from tests.access.builders import (assert_forbidden, care_team, document, ok, patient, practitioner, put)

P = "pat-rep"
OLD = "doc-rep-old"
AUTHOR, TEAM = "Practitioner/pra-rep-author", "Practitioner/pra-rep-team"


@pytest.fixture
def record(actors):
    s = actors.system
    for pra in ("pra-rep-author", "pra-rep-team"):
        put(s, practitioner(pra))
    put(s, patient(P))
    put(s, patient("pat-rep-other"))
    put(s, care_team("ct-rep", P, (AUTHOR, TEAM)))
    put(s, document(OLD, P, (AUTHOR,)))
    return actors


def _replacement(code: str = "replaces", target: str = OLD, patient_id: str = P, author: str = AUTHOR) -> dict:
    new = document("ignored", patient_id, (author,), description="Document fictif, version corrigée")
    new.pop("id")
    new["relatesTo"] = [{"code": code, "target": {"reference": f"DocumentReference/{target}"}}]
    return new


def _status(actors, id: str = OLD) -> str:
    return ok(actors.system.get(f"DocumentReference/{id}"))["status"]


def test_author_replacing_supersedes_the_target_in_the_same_write(record):
    created = ok(record(AUTHOR).post("DocumentReference", _replacement()), 201)
    assert created["status"] == "current" and created["relatesTo"][0]["code"] == "replaces"
    old = ok(record.system.get(f"DocumentReference/{OLD}"))
    assert old["status"] == "superseded" and old["meta"]["versionId"] == "2"
    history = ok(record.system.get(f"DocumentReference/{OLD}/_history"))
    assert [e["resource"]["status"] for e in history["entry"]] == ["superseded", "current"]
    found = ok(record.system.get(f"DocumentReference?patient=Patient/{P}&status=current"))
    assert [e["resource"]["id"] for e in found["entry"]] == [created["id"]]


def test_replacing_a_document_that_is_not_current_is_refused_and_nothing_is_stored(record):
    ok(record(AUTHOR).post("DocumentReference", _replacement()), 201)
    again = record(AUTHOR).post("DocumentReference", _replacement())
    assert again.status_code == 422, again.text
    issue = again.json()["issue"][0]
    assert issue["code"] == "business-rule" and "superseded, not current" in issue["diagnostics"]
    assert issue["expression"] == ["DocumentReference.relatesTo[0].target"]
    assert ok(record.system.get(f"DocumentReference?patient=Patient/{P}&_summary=count"))["total"] == 2


def test_a_professional_who_may_not_withdraw_the_target_cannot_replace_it(record):
    refused = record(TEAM).post("DocumentReference", _replacement(author=TEAM))
    assert_forbidden(refused, "only the author")
    assert _status(record) == "current"
    assert ok(record.system.get(f"DocumentReference?patient=Patient/{P}&_summary=count"))["total"] == 1


def test_the_holder_cannot_replace_a_professionals_document(record):
    refused = record(f"Patient/{P}").post("DocumentReference", _replacement(author=f"Patient/{P}"))
    assert refused.status_code == 403, refused.text
    assert _status(record) == "current"


def test_replacement_target_must_exist_and_be_about_the_same_patient(record):
    missing = record(AUTHOR).post("DocumentReference", _replacement(target="doc-nowhere"))
    assert missing.status_code == 422 and missing.json()["issue"][0]["code"] == "not-found"
    put(record.system, care_team("ct-rep-other", "pat-rep-other", (AUTHOR,)))
    other = record(AUTHOR).post("DocumentReference", _replacement(patient_id="pat-rep-other"))
    assert other.status_code == 422, other.text
    assert "same patient" in other.json()["issue"][0]["diagnostics"]
    assert _status(record) == "current"


def test_transforms_and_appends_are_recorded_and_leave_the_target_current(record):
    for code in ("transforms", "appends"):
        created = ok(record(AUTHOR).post("DocumentReference", _replacement(code=code)), 201)
        assert created["relatesTo"] == [{"code": code, "target": {"reference": f"DocumentReference/{OLD}"}}]
    assert _status(record) == "current"
    related = ok(record.system.get(f"DocumentReference?relatesto=DocumentReference/{OLD}"))
    assert len(related["entry"]) == 2


def test_replacement_in_a_transaction_is_one_unit_of_work(record):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:7f1c0f1e-0000-4000-8000-000000000001", "resource": _replacement(),
         "request": {"method": "POST", "url": "DocumentReference"}},
        {"resource": _replacement(target="doc-nowhere"), "request": {"method": "POST", "url": "DocumentReference"}},
    ]}
    failed = record(AUTHOR).post("", bundle)
    assert failed.status_code == 422, failed.text
    assert _status(record) == "current"       # the first entry's supersede was rolled back with the rest
    bundle["entry"] = bundle["entry"][:1]
    done = ok(record(AUTHOR).post("", bundle))
    assert done["entry"][0]["response"]["status"].startswith("201")
    assert _status(record) == "superseded"
