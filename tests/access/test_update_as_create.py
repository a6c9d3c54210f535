"""decisions.UPDATE_AS_CREATE_FOR_TRUSTED_SYSTEMS_ONLY: a PUT cannot tell a hidden resource from a free id."""

from __future__ import annotations

import pytest

from tests.access.builders import MASQUE_PS, document, patient, permit, practitioner, put

P = "pat-uac"
HIDDEN = "doc-uac-masked"
AUTHOR, GP = "Practitioner/pra-uac-author", "Practitioner/pra-uac-gp"


@pytest.fixture
def record(actors):
    s = actors.system
    for pra in ("pra-uac-author", "pra-uac-gp"):
        put(s, practitioner(pra))
    put(s, patient(P))
    put(s, permit("cns-uac-gp", P, GP))
    put(s, document(HIDDEN, P, (AUTHOR,), labels=(MASQUE_PS,)))
    return actors


def test_hidden_id_and_free_id_answer_alike_to_a_professional(record):
    gp = record(GP)
    masked = document(HIDDEN, P, (GP,))
    free = document("doc-uac-free", P, (GP,))
    hidden_answer, free_answer = gp.put(f"DocumentReference/{HIDDEN}", masked), gp.put("DocumentReference/doc-uac-free", free)
    assert hidden_answer.status_code == free_answer.status_code == 404
    assert hidden_answer.json()["issue"][0]["code"] == free_answer.json()["issue"][0]["code"] == "not-found"
    assert record.system.get("DocumentReference/doc-uac-free").status_code == 404


def test_trusted_system_creates_with_a_chosen_id(record):
    r = record.system.put("DocumentReference/doc-uac-system", document("doc-uac-system", P, (AUTHOR,)))
    assert r.status_code == 201


def test_professional_creates_with_post(record):
    body = {k: v for k, v in document("ignored", P, (GP,)).items() if k != "id"}
    assert record(GP).post("DocumentReference", body).status_code == 201
