"""Rule 7 (R1111-50, R1111-33): at a minor's request, documents about confidential care
(INVISIBLE_REPRESENTANTS_LEGAUX), and the related reimbursement data, are hidden from the legal representatives,
never from the minor holder nor from professionals. $hide-from-representatives is for the author."""

from __future__ import annotations

import pytest

from tests.access.builders import (INVISIBLE_REPRESENTANTS_LEGAUX, JSON_PATCH, assert_forbidden, assert_not_found,
                                   birth_date, care_team, document, ids_of, label, ok, params, patient, practitioner,
                                   put, related_person, search_ids)

MINOR = "pat-irl"
SECRET, PLAIN, REIMB = "doc-irl-contraception", "doc-irl-sport", "doc-irl-remboursement"
MIDWIFE, MT, TEAM = "Practitioner/pra-midwife", "Practitioner/pra-mt", "Practitioner/pra-team"
MOTHER, FATHER = "RelatedPerson/rp-irl-mother", "RelatedPerson/rp-irl-father"


@pytest.fixture
def record(actors):
    s = actors.system
    for pra in ("pra-midwife", "pra-mt", "pra-team"):
        put(s, practitioner(pra))
    put(s, patient(MINOR, birth=birth_date(16), gps=("pra-mt",)))
    put(s, related_person("rp-irl-mother", MINOR, code="MTH"))
    put(s, related_person("rp-irl-father", MINOR, code="FTH"))
    put(s, care_team("ct-irl", MINOR, (MIDWIFE, TEAM)))
    put(s, document(SECRET, MINOR, (MIDWIFE, "Organization/org-css"), labels=(INVISIBLE_REPRESENTANTS_LEGAUX,)))
    put(s, document(REIMB, MINOR, ("Organization/org-cpam",), labels=(INVISIBLE_REPRESENTANTS_LEGAUX,)))
    put(s, document(PLAIN, MINOR, (MT,)))
    return actors


def _hidden(api, doc: str, visible: set[str]) -> None:
    assert_not_found(api.get(f"DocumentReference/{doc}"))
    assert_not_found(api.get(f"DocumentReference/{doc}/_history"))
    assert_not_found(api.get(f"DocumentReference/{doc}/_history/1"))
    assert search_ids(api, f"DocumentReference?patient={MINOR}") == (visible, len(visible))
    assert search_ids(api, f"DocumentReference?_id={doc}") == (set(), 0)
    assert ids_of(ok(api.get(f"Patient/{MINOR}/$everything"), 200), "DocumentReference") == visible
    rev = ok(api.get(f"Patient?_id={MINOR}&_revinclude=DocumentReference:subject"), 200)
    assert ids_of(rev, "DocumentReference") == visible


def _visible(api, doc: str) -> None:
    assert ok(api.get(f"DocumentReference/{doc}"), 200)["id"] == doc
    found, total = search_ids(api, f"DocumentReference?patient={MINOR}")
    assert doc in found and total == len(found)


@pytest.mark.parametrize("rep", [MOTHER, FATHER])
def test_minor_secret_hidden_from_legal_representatives(record, rep):
    _hidden(record(rep), SECRET, {PLAIN})


@pytest.mark.parametrize("rep", [MOTHER, FATHER])
def test_related_reimbursement_hidden_from_legal_representatives(record, rep):
    _hidden(record(rep), REIMB, {PLAIN})


def test_legal_representative_still_sees_the_rest_of_the_record(record):
    api = record(MOTHER)
    assert ok(api.get(f"Patient/{MINOR}"), 200)
    _visible(api, PLAIN)


def test_minor_secret_visible_to_the_minor_holder(record):
    api = record(f"Patient/{MINOR}")
    _visible(api, SECRET)
    _visible(api, REIMB)
    assert ids_of(ok(api.get(f"Patient/{MINOR}/$everything"), 200), "DocumentReference") == {SECRET, REIMB, PLAIN}


@pytest.mark.parametrize("who", [MIDWIFE, MT, TEAM])
def test_minor_secret_visible_to_professionals(record, who):
    _visible(record(who), SECRET)


def test_hide_from_representatives_by_the_author(record):
    ok(record(MT).post(f"DocumentReference/{PLAIN}/$hide-from-representatives", params()), 200)
    _hidden(record(MOTHER), PLAIN, set())
    _visible(record(f"Patient/{MINOR}"), PLAIN)


@pytest.mark.parametrize("who", [MIDWIFE, TEAM, f"Patient/{MINOR}", MOTHER])
def test_hide_from_representatives_refused_to_non_authors(record, who):
    assert_forbidden(record(who).post(f"DocumentReference/{PLAIN}/$hide-from-representatives", params()))
    _visible(record(MOTHER), PLAIN)


def test_hide_from_representatives_by_patch_follows_the_same_rule(record):
    op = [{"op": "add", "path": "/securityLabel/-", "value": label(INVISIBLE_REPRESENTANTS_LEGAUX)}]
    assert_forbidden(record(TEAM).patch(f"DocumentReference/{PLAIN}", op, headers=JSON_PATCH), "author")
    _visible(record(MOTHER), PLAIN)
    ok(record(MT).patch(f"DocumentReference/{PLAIN}", op, headers=JSON_PATCH), 200)
    _hidden(record(MOTHER), PLAIN, set())


def test_legal_representative_cannot_lift_the_secret(record):
    r = record(MOTHER).patch(f"DocumentReference/{SECRET}", [{"op": "remove", "path": "/securityLabel/1"}],
                             headers=JSON_PATCH)
    assert r.status_code in (403, 404)
    _hidden(record(MOTHER), SECRET, {PLAIN})


def test_legal_representative_cannot_mask_what_it_cannot_see(record):
    assert_not_found(record(MOTHER).post(f"DocumentReference/{SECRET}/$mask", params()))


def test_seeded_ines_haddad_parents_see_only_the_sport_certificate(seed):
    hidden = {"doc-ines-haddad-cr-consultation-contraception-2026-10",
              "doc-ines-haddad-prescription-contraception-2026-10",
              "doc-ines-haddad-remboursement-contraception-2026-10"}
    for rep in ("RelatedPerson/rp-ines-haddad-mere", "RelatedPerson/rp-ines-haddad-pere"):
        api = seed(rep)
        found, total = search_ids(api, "DocumentReference?patient=pat-ines-haddad")
        assert found == {"doc-ines-haddad-certificat-sport-2026-09"} and total == 1, rep
        for doc in hidden:
            assert_not_found(api.get(f"DocumentReference/{doc}"))
    for who in ("Patient/pat-ines-haddad", "Practitioner/pra-antoine-lefebvre"):
        found, _ = search_ids(seed(who), "DocumentReference?patient=pat-ines-haddad")
        assert hidden <= found, who
    # the midwife holds no authorisation on the record: she sees the documents she wrote (decisions.py)
    found, _ = search_ids(seed("Practitioner/pra-julie-mercier"), "DocumentReference?patient=pat-ines-haddad")
    assert found == hidden - {"doc-ines-haddad-remboursement-contraception-2026-10"}
