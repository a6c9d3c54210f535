"""Rule 8 (platform parameter cumul-invisible_patient-masque_ps = false, decisions.py): a document may not be
both INVISIBLE_PATIENT and MASQUE_PS. Every way of setting a label answers 400 and stores nothing."""

from __future__ import annotations

import pytest

from tests.access.builders import (INVISIBLE_PATIENT, JSON_PATCH, MASQUE_PS, care_team, days, document, label, ok,
                                   params, patient, practitioner, put)

P = "pat-cumul"
AUTHOR = "Practitioner/pra-author"


@pytest.fixture
def record(actors):
    s = actors.system
    put(s, practitioner("pra-author"))
    put(s, patient(P))
    put(s, care_team("ct-cumul", P, (AUTHOR,)))
    put(s, document("doc-masked", P, (AUTHOR,), labels=(MASQUE_PS,)))
    put(s, document("doc-hidden", P, (AUTHOR,), labels=(INVISIBLE_PATIENT,), date=days(-2)))
    put(s, document("doc-hidden-month-over", P, (AUTHOR,), labels=(INVISIBLE_PATIENT,), date=days(-40)))
    return actors


def _labels(actors, id: str) -> set[str]:
    doc = ok(actors.system.get(f"DocumentReference/{id}"))
    return {c["code"] for l in doc.get("securityLabel") or [] for c in l["coding"]}


def _is_400(response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


def test_hide_from_patient_on_a_masked_document_is_400(record):
    _is_400(record(AUTHOR).post("DocumentReference/doc-masked/$hide-from-patient", params()))
    assert _labels(record, "doc-masked") == {"N", MASQUE_PS}


def test_mask_on_a_document_still_labelled_invisible_patient_is_400(record):
    """Its month is over, so the holder sees it, but the label is still there: masking would cumulate."""
    _is_400(record(f"Patient/{P}").post("DocumentReference/doc-hidden-month-over/$mask", params()))
    assert _labels(record, "doc-hidden-month-over") == {"N", INVISIBLE_PATIENT}


def test_mask_on_a_document_hidden_from_the_holder_is_refused(record):
    """The holder does not see it (404); in any case it is not masked."""
    r = record(f"Patient/{P}").post("DocumentReference/doc-hidden/$mask", params())
    assert r.status_code in (400, 404)
    assert _labels(record, "doc-hidden") == {"N", INVISIBLE_PATIENT}


def test_patch_adding_invisible_patient_to_a_masked_document_is_400(record):
    op = [{"op": "add", "path": "/securityLabel/-", "value": label(INVISIBLE_PATIENT)}]
    _is_400(record(AUTHOR).patch("DocumentReference/doc-masked", op, headers=JSON_PATCH))
    assert _labels(record, "doc-masked") == {"N", MASQUE_PS}


def test_patch_adding_masque_ps_to_an_invisible_patient_document_is_400(record):
    op = [{"op": "add", "path": "/securityLabel/-", "value": label(MASQUE_PS)}]
    _is_400(record(f"Patient/{P}").patch("DocumentReference/doc-hidden-month-over", op, headers=JSON_PATCH))


def test_create_with_both_labels_is_400_even_for_a_trusted_system(record):
    for api in (record(AUTHOR), record.system):
        both = document("x", P, (AUTHOR,), labels=(MASQUE_PS, INVISIBLE_PATIENT))
        body = {k: v for k, v in both.items() if k != "id"}
        _is_400(api.post("DocumentReference", body))
    _is_400(record.system.put("DocumentReference/doc-both", document("doc-both", P, (AUTHOR,),
                                                                     labels=(MASQUE_PS, INVISIBLE_PATIENT))))
    assert record.system.get("DocumentReference/doc-both").status_code == 404


def test_each_label_alone_is_accepted(record):
    body = {k: v for k, v in document("x", P, (AUTHOR,), labels=(INVISIBLE_PATIENT,)).items() if k != "id"}
    assert record(AUTHOR).post("DocumentReference", body).status_code == 201
    ok(record(f"Patient/{P}").post("DocumentReference/doc-masked/$unmask", params()), 200)
    ok(record(AUTHOR).post("DocumentReference/doc-masked/$hide-from-patient", params()), 200)
    assert _labels(record, "doc-masked") == {"N", INVISIBLE_PATIENT}


def test_transaction_entry_with_both_labels_is_refused_and_stores_nothing(record):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": document("doc-tx-ok", P, (AUTHOR,)),
         "request": {"method": "PUT", "url": "DocumentReference/doc-tx-ok"}},
        {"resource": document("doc-tx-both", P, (AUTHOR,), labels=(MASQUE_PS, INVISIBLE_PATIENT)),
         "request": {"method": "PUT", "url": "DocumentReference/doc-tx-both"}}]}
    r = record.system.post("", bundle)
    assert r.status_code == 400, r.text
    assert record.system.get("DocumentReference/doc-tx-ok").status_code == 404
