"""Rules 10, 12, 13, 14: an authorised professional adds documents the holder cannot refuse; the holder cannot
delete or alter a professional's document (but may mask it: $mask and PATCH of securityLabel, one rule) and may
correct or delete what they deposited themselves (decisions.HOLDER_MAY_ALTER_OWN_DEPOSITS); only the author
deletes a document (logically: history kept) or changes its status; on DocumentReference only status,
securityLabel and the PDSm is-archived extension change, anything else is 405."""

from __future__ import annotations

import pytest

from fhir_server.access.decisions import IS_ARCHIVED_URL
from tests.access.builders import (JSON_PATCH, MASQUE_PS, assert_forbidden, care_team, document, label, ok, params,
                                   patient, practitioner, put, search_ids)

P = "pat-wr"
DOC, DEPOSIT = "doc-wr-pro", "doc-wr-deposit"
AUTHOR, MT, TEAM = "Practitioner/pra-author", "Practitioner/pra-mt", "Practitioner/pra-team"
HOLDER = f"Patient/{P}"


@pytest.fixture
def record(actors):
    s = actors.system
    for pra in ("pra-author", "pra-mt", "pra-team"):
        put(s, practitioner(pra))
    put(s, patient(P, gps=("pra-mt",)))
    put(s, care_team("ct-wr", P, (AUTHOR, TEAM)))
    put(s, document(DOC, P, (AUTHOR, "Organization/org-chu")))
    deposit = document(DEPOSIT, P, (HOLDER,))
    deposit["category"][0]["coding"][0]["code"] = "90"
    put(s, deposit)
    return actors


def _version(actors, id=DOC) -> str:
    return ok(actors.system.get(f"DocumentReference/{id}"))["meta"]["versionId"]


def _patch(api, id, *ops):
    return api.patch(f"DocumentReference/{id}", list(ops), headers=JSON_PATCH)


def _put_changed(api, actors, id, **changes):
    body = ok(actors.system.get(f"DocumentReference/{id}"))
    body.pop("meta", None)
    body.update(changes)
    return api.put(f"DocumentReference/{id}", body)


def test_authorised_professional_adds_a_document_the_holder_cannot_refuse(record):
    body = {k: v for k, v in document("x", P, (TEAM,)).items() if k != "id"}
    created = ok(record(TEAM).post("DocumentReference", body), 201)
    assert_forbidden(record(HOLDER).delete(f"DocumentReference/{created['id']}"))
    assert ok(record.system.get(f"DocumentReference/{created['id']}"))["status"] == "current"


def test_holder_cannot_delete_a_professionals_document(record):
    assert_forbidden(record(HOLDER).delete(f"DocumentReference/{DOC}"), "professional")
    assert _version(record) == "1"


def test_holder_cannot_alter_a_professionals_document(record):
    holder = record(HOLDER)
    for r in (_patch(holder, DOC, {"op": "replace", "path": "/description", "value": "changé"}),
              _put_changed(holder, record, DOC, description="changé"),
              _patch(holder, DOC, {"op": "replace", "path": "/status", "value": "entered-in-error"})):
        assert r.status_code in (403, 405), r.text
        assert r.json()["resourceType"] == "OperationOutcome"
    assert _version(record) == "1"


def test_holder_cannot_alter_a_professionals_document_in_a_transaction(record):
    body = ok(record.system.get(f"DocumentReference/{DOC}"))
    body.pop("meta")
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {**body, "description": "changé"},
         "request": {"method": "PUT", "url": f"DocumentReference/{DOC}"}}]}
    assert record(HOLDER).post("", bundle).status_code in (403, 405)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "DELETE", "url": f"DocumentReference/{DOC}"}}]}
    assert record(HOLDER).post("", bundle).status_code == 403
    assert _version(record) == "1"


def test_holder_masks_a_professionals_document_via_operation(record):
    ok(record(HOLDER).post(f"DocumentReference/{DOC}/$mask", params()), 200)
    assert _version(record) == "2"


def test_holder_masks_a_professionals_document_via_patch_of_security_label(record):
    ok(_patch(record(HOLDER), DOC, {"op": "add", "path": "/securityLabel/-", "value": label(MASQUE_PS)}), 200)
    assert search_ids(record(TEAM), f"DocumentReference?patient={P}")[0] == {DEPOSIT}


def test_holder_cannot_slip_another_change_into_a_masking_patch(record):
    r = _patch(record(HOLDER), DOC, {"op": "add", "path": "/securityLabel/-", "value": label(MASQUE_PS)},
               {"op": "replace", "path": "/description", "value": "changé"})
    assert r.status_code in (403, 405)
    assert _version(record) == "1"


def _deleted_logically(actors, id: str) -> None:
    """Rule 12: deleted logically, never physically: withdrawn by its status (entered-in-error), or a FHIR
    delete whose history keeps the document."""
    r = actors.system.get(f"DocumentReference/{id}")
    if r.status_code == 200:
        assert r.json()["status"] == "entered-in-error", r.text
    else:
        assert r.status_code == 410, r.text
    first = ok(actors.system.get(f"DocumentReference/{id}/_history/1"), 200)
    assert first["id"] == id and first["content"]


def test_holder_deletes_own_deposit(record):
    """decisions.HOLDER_MAY_ALTER_OWN_DEPOSITS"""
    ok(record(HOLDER).delete(f"DocumentReference/{DEPOSIT}"), 200, 204)
    _deleted_logically(record, DEPOSIT)


def test_holder_corrects_own_deposit_by_replacing_it(record):
    """decisions.HOLDER_MAY_ALTER_OWN_DEPOSITS with rule 13: a correction is a replacement."""
    holder = record(HOLDER)
    new = {k: v for k, v in document("x", P, (HOLDER,), description="corrigé").items() if k != "id"}
    new["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{DEPOSIT}"}}]
    ok(holder.post("DocumentReference", new), 201)
    ok(_patch(holder, DEPOSIT, {"op": "replace", "path": "/status", "value": "superseded"}), 200)
    assert ok(record.system.get(f"DocumentReference/{DEPOSIT}"))["status"] == "superseded"


def test_holder_changes_own_deposit_metadata_only_where_rule_13_allows(record):
    r = _patch(record(HOLDER), DEPOSIT, {"op": "replace", "path": "/description", "value": "corrigé"})
    assert r.status_code in (200, 405), r.text


def test_professionals_see_patient_deposits_like_other_documents(record):
    assert ok(record(TEAM).get(f"DocumentReference/{DEPOSIT}"), 200)


@pytest.mark.parametrize("who", [MT, TEAM, HOLDER])
def test_only_the_author_deletes_a_document(record, who):
    assert_forbidden(record(who).delete(f"DocumentReference/{DOC}"))
    assert _version(record) == "1"


def test_author_deletes_logically_history_kept(record):
    ok(record(AUTHOR).delete(f"DocumentReference/{DOC}"), 200, 204)
    _deleted_logically(record, DOC)


@pytest.mark.parametrize("who", [MT, TEAM])
def test_only_the_author_changes_the_status(record, who):
    assert_forbidden(_patch(record(who), DOC, {"op": "replace", "path": "/status", "value": "entered-in-error"}),
                     "author")
    assert _version(record) == "1"


def test_author_marks_the_document_entered_in_error(record):
    ok(_patch(record(AUTHOR), DOC, {"op": "replace", "path": "/status", "value": "entered-in-error"}), 200)
    assert ok(record.system.get(f"DocumentReference/{DOC}"))["status"] == "entered-in-error"


@pytest.mark.parametrize("path,value", [("/description", "changé"), ("/date", "2020-01-01T00:00:00Z"),
                                        ("/subject", {"reference": "Patient/someone-else"}),
                                        ("/type", {"coding": [{"system": "http://loinc.org", "code": "34133-9"}]}),
                                        ("/author", [{"reference": "Practitioner/pra-team"}])])
def test_patch_of_other_document_elements_is_405(record, path, value):
    r = _patch(record(AUTHOR), DOC, {"op": "replace", "path": path, "value": value})
    assert r.status_code == 405, r.text
    assert r.json()["resourceType"] == "OperationOutcome"
    assert _version(record) == "1"


def test_update_changing_other_document_elements_is_405(record):
    r = _put_changed(record(AUTHOR), record, DOC, description="changé")
    assert r.status_code == 405, r.text
    assert _version(record) == "1"


def test_author_sets_the_is_archived_extension(record):
    ok(_patch(record(AUTHOR), DOC, {"op": "add", "path": "/extension",
                                    "value": [{"url": IS_ARCHIVED_URL, "valueBoolean": True}]}), 200)
    assert _version(record) == "2"


def test_author_cannot_sneak_another_extension(record):
    r = _patch(record(AUTHOR), DOC, {"op": "add", "path": "/extension",
                                     "value": [{"url": "https://example.org/other", "valueString": "x"}]})
    assert r.status_code == 405


def test_replacing_a_document_supersedes_the_old_one(record):
    new = {k: v for k, v in document("x", P, (AUTHOR,)).items() if k != "id"}
    new["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{DOC}"}}]
    ok(record(AUTHOR).post("DocumentReference", new), 201)
    ok(_patch(record(AUTHOR), DOC, {"op": "replace", "path": "/status", "value": "superseded"}), 200)
    assert ok(record.system.get(f"DocumentReference/{DOC}"))["status"] == "superseded"
