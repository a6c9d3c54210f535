"""The access matrix (issue 4, "Show"): actor kind × access mode × document visibility, checked on every path.

A dedicated data set: a minor patient (15) with a legal representative (her mother) and a médecin traitant;
four documents written by one professional (Dr Author, of the clinic), one per visibility:

    plain   no TRE_A07 label
    MP      MASQUE_PS                       (masked by the holder)
    IP      INVISIBLE_PATIENT               (dated 2 days ago: its month is running)
    IRL     INVISIBLE_REPRESENTANTS_LEGAUX  (the minor's secret)

and the same four again (ids ending in -2) written by Dr Author-2, who holds no authorisation on the record,
so that "the author sees their masked document" and "a non-author does not" are both on the table.

EXPECTED below is the rules table, written from DMP_RULES.md and fhir_server/access/decisions.py:
- holder: everything but IP (rule 1, rule 6);
- legal representative: neither IP (rule 6 + decisions: "also hides from the legal representatives") nor IRL (rule 7);
- médecin traitant: everything (rule 5), in any mode;
- care-team, authorised, emergency (bris_de_glace with a reason, centre_15) professionals: everything but MP
  (rules 2, 4, 9; decisions.EMERGENCY_SEES_MASKED = False);
- the author (in the care team) and a professional of the author's establishment (authorised): everything (rule 4);
- the author without any authorisation: their own documents, here all four, and nothing else of the record
  (decisions.AUTHOR_SEES_OWN_DOCUMENTS: no Patient, no $everything);
- unrelated, blocked (even in the care team, with a permit, in bris_de_glace), bris_de_glace without a reason:
  nothing (rules 2, 3, 9), 403;
- trusted system: everything (CONTRACT.md).

Each path must agree with the table: read and vread (visible → 200, hidden → 404, in a refused record 404 too:
issue 10, only the Patient itself answers 403),
instance history, `DocumentReference?patient=` (ids, total, `_summary=count`, paging with _count=1),
`DocumentReference?patient=&_include=DocumentReference:subject`, `Patient?_id=&_revinclude=DocumentReference:subject`,
`Patient/{id}/$everything` (GET and POST), a search by `_id` naming all four documents, and a search by label.
"""

from __future__ import annotations

import pytest

from fhir_server.access.decisions import VISIBILITY_SYSTEM
from tests.access.builders import (INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX, MASQUE_PS, birth_date, care_team,
                                   days, deny, document, ids_of, ok, patient, permit, practitioner, practitioner_role, put, related_person,
                                   search_ids)

P = "pat-mx"
AUTHOR, CLINIC = "Practitioner/pra-mx-author", "Organization/org-mx-clinic"
DOCS = {"plain": "doc-mx-plain", "MP": "doc-mx-masque-ps", "IP": "doc-mx-invisible-patient",
        "IRL": "doc-mx-invisible-representants"}
LABELS = {"plain": (), "MP": (MASQUE_PS,), "IP": (INVISIBLE_PATIENT,), "IRL": (INVISIBLE_REPRESENTANTS_LEGAUX,)}
ALL = frozenset(DOCS)
NONE: frozenset = frozenset()
REASON = "détresse respiratoire, patiente inconsciente"

# record access: "full" (the whole record, filtered), "documents" (own documents only), "refused" (403)
# actor kind: (token subject, token options, record access,
#              visible documents of Dr Author (of the clinic), visible documents of Dr Author-2 (no authorisation))
EXPECTED: dict[str, tuple[str, dict, str, frozenset, frozenset]] = {
    "holder": (f"Patient/{P}", {}, "full", ALL - {"IP"}, ALL - {"IP"}),
    "legal_representative": ("RelatedPerson/rp-mx-mother", {}, "full", ALL - {"IP", "IRL"}, ALL - {"IP", "IRL"}),
    "medecin_traitant": ("Practitioner/pra-mx-mt", {}, "full", ALL, ALL),
    "medecin_traitant_bris_de_glace": ("Practitioner/pra-mx-mt", {"mode": "bris_de_glace", "reason": REASON},
                                       "full", ALL, ALL),
    "care_team": ("Practitioner/pra-mx-team", {}, "full", ALL - {"MP"}, ALL - {"MP"}),
    "authorised": ("Practitioner/pra-mx-authorised", {}, "full", ALL - {"MP"}, ALL - {"MP"}),
    "author_in_care_team": (AUTHOR, {"organization": CLINIC}, "full", ALL, ALL - {"MP"}),
    "authors_establishment": ("Practitioner/pra-mx-colleague", {"organization": CLINIC}, "full", ALL, ALL - {"MP"}),
    "author_without_authorisation": ("Practitioner/pra-mx-author-2", {}, "documents", NONE, ALL),
    "unrelated": ("Practitioner/pra-mx-stranger", {}, "refused", NONE, NONE),
    "blocked": ("Practitioner/pra-mx-blocked", {}, "refused", NONE, NONE),
    "blocked_bris_de_glace": ("Practitioner/pra-mx-blocked", {"mode": "bris_de_glace", "reason": REASON},
                              "refused", NONE, NONE),
    "bris_de_glace": ("Practitioner/pra-mx-stranger", {"mode": "bris_de_glace", "reason": REASON}, "full",
                      ALL - {"MP"}, ALL - {"MP"}),
    "centre_15": ("Practitioner/pra-mx-stranger", {"mode": "centre_15"}, "full", ALL - {"MP"}, ALL - {"MP"}),
    "trusted_system": ("Device/mx-system", {"scope": "system/*.cruds"}, "full", ALL, ALL),
    "bris_de_glace_without_reason": ("Practitioner/pra-mx-stranger", {"purpose_of_use": "bris_de_glace"}, "refused",
                                     NONE, NONE),
}
KINDS = sorted(EXPECTED)


def _expected(kind: str) -> tuple[str, frozenset]:
    """(record access, visibilities seen among Dr Author's documents)"""
    return EXPECTED[kind][2], EXPECTED[kind][3]


@pytest.fixture(scope="module")
def world(module_actors):
    s = module_actors.system
    for pra in ("pra-mx-author", "pra-mx-author-2", "pra-mx-mt", "pra-mx-team", "pra-mx-authorised",
                "pra-mx-colleague", "pra-mx-stranger", "pra-mx-blocked"):
        put(s, practitioner(pra))
    put(s, patient(P, birth=birth_date(15), gps=("pra-mx-mt",)))
    for pra in ("pra-mx-author", "pra-mx-colleague"):      # they act for the clinic (a PractitionerRole says so)
        put(s, practitioner_role(f"prr-{pra}", pra, CLINIC.split("/")[1]))
    put(s, related_person("rp-mx-mother", P, code="MTH"))
    put(s, care_team("ct-mx", P, ("Practitioner/pra-mx-team", AUTHOR, "Practitioner/pra-mx-blocked")))
    put(s, permit("cns-mx-authorised", P, "Practitioner/pra-mx-authorised"))
    put(s, permit("cns-mx-colleague", P, "Practitioner/pra-mx-colleague"))
    put(s, permit("cns-mx-blocked-permit", P, "Practitioner/pra-mx-blocked"))
    put(s, deny("cns-mx-blocked", P, "Practitioner/pra-mx-blocked"))
    for key, id in DOCS.items():
        put(s, document(id, P, (AUTHOR, CLINIC), labels=LABELS[key], date=days(-2)))
        # the same four written by an author who holds no authorisation on the record
        put(s, document(f"{id}-2", P, ("Practitioner/pra-mx-author-2",), labels=LABELS[key], date=days(-2)))
    # a document of another patient, never visible here
    put(s, patient("pat-mx-other"))
    put(s, document("doc-mx-other", "pat-mx-other", (AUTHOR, CLINIC)))
    return module_actors


def api_for(world, kind: str):
    sub, options, _, _, _ = EXPECTED[kind]
    if kind == "bris_de_glace_without_reason":   # the token service refuses to mint it: sign it by hand
        return world.raw({"sub": sub, "scope": "user/*.cruds", **options})
    return world(sub, **options)


def visible_ids(kind: str) -> set[str]:
    _, _, _, by_author, by_author_2 = EXPECTED[kind]
    return {DOCS[k] for k in by_author} | {f"{DOCS[k]}-2" for k in by_author_2}


def bundle_of(api, query: str, access: str) -> dict:
    """The searchset; a search naming a record refused to the actor may itself be refused (403), like a read:
    that is an empty answer."""
    r = api.get(query)
    if access == "refused" and r.status_code == 403:
        assert r.json()["resourceType"] == "OperationOutcome"
        return {"resourceType": "Bundle", "total": 0}
    return ok(r, 200)


def all_ids() -> set[str]:
    return set(DOCS.values()) | {f"{d}-2" for d in DOCS.values()}


def test_the_table_is_what_the_rules_say():
    """The table itself, spelled out per visibility (so a change in decisions.py shows up here first)."""
    from fhir_server.access import decisions
    assert decisions.EMERGENCY_SEES_MASKED is False and decisions.BLOCK_APPLIES_IN_EMERGENCY is True
    assert decisions.AUTHOR_SEES_OWN_DOCUMENTS is True
    for column in (3, 4):
        seen_by = {v: {k for k in KINDS if v in EXPECTED[k][column]} for v in DOCS}
        assert seen_by["plain"] == {k for k in KINDS if EXPECTED[k][2] != "refused"} - (
            {"author_without_authorisation"} if column == 3 else set())
        authors = {"author_in_care_team", "authors_establishment"} if column == 3 else {"author_without_authorisation"}
        assert seen_by["MP"] == {"holder", "legal_representative", "medecin_traitant", "medecin_traitant_bris_de_glace",
                                 "trusted_system"} | authors
        assert seen_by["IP"] == seen_by["plain"] - {"holder", "legal_representative"}
        assert seen_by["IRL"] == seen_by["plain"] - {"legal_representative"}


@pytest.mark.parametrize("kind", KINDS)
def test_read_and_vread_agree_with_the_table(world, kind):
    api, (access, _) = api_for(world, kind), _expected(kind)
    visible = visible_ids(kind)
    for id in sorted(all_ids()):
        expected = 200 if id in visible else 404     # a refused record's resources are 404 like absent ids (issue 10)
        assert api.get(f"DocumentReference/{id}").status_code == expected, (kind, id)
        assert api.get(f"DocumentReference/{id}/_history/1").status_code == expected, (kind, id, "vread")
    patient_status = {"full": 200, "refused": 403, "documents": (403, 404)}[access]
    status = api.get(f"Patient/{P}").status_code
    assert status in patient_status if isinstance(patient_status, tuple) else status == patient_status, (kind, status)


@pytest.mark.parametrize("kind", KINDS)
def test_instance_history_agrees_with_the_table(world, kind):
    api, (access, _) = api_for(world, kind), _expected(kind)
    visible = visible_ids(kind)
    for id in sorted(all_ids()):
        r = api.get(f"DocumentReference/{id}/_history")
        if id in visible:
            bundle = ok(r, 200)
            assert bundle["total"] == 1 and ids_of(bundle) == {id}, (kind, id)
        else:
            assert r.status_code == 404, (kind, id, r.status_code)    # the record itself (Patient) stays 403


@pytest.mark.parametrize("kind", KINDS)
def test_search_agrees_with_the_table_and_total_is_the_visible_count(world, kind):
    api, (access, _) = api_for(world, kind), _expected(kind)
    visible = visible_ids(kind)
    found, total = search_ids(api, f"DocumentReference?patient={P}")
    assert found == visible, kind
    assert total == len(visible), kind
    assert bundle_of(api, f"DocumentReference?patient={P}&_summary=count", access)["total"] == len(visible), kind
    paged, paged_total = search_ids(api, f"DocumentReference?patient={P}&_count=1")
    assert paged == visible and paged_total == len(visible), kind
    by_id, id_total = search_ids(api, f"DocumentReference?_id={','.join(sorted(all_ids()))}")
    assert by_id == visible and id_total == len(visible), kind
    # a search without the patient finds nothing more of this record
    everywhere, _ = search_ids(api, "DocumentReference?_count=200")
    assert everywhere & all_ids() == visible, kind


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("code", [MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX])
def test_search_by_label_never_reveals_a_hidden_document(world, kind, code):
    api = api_for(world, kind)
    found, total = search_ids(api, f"DocumentReference?patient={P}&security-label={VISIBILITY_SYSTEM}|{code}")
    key = next(k for k, labels in LABELS.items() if code in labels)
    expected = visible_ids(kind) & {DOCS[key], f"{DOCS[key]}-2"}
    assert found == expected and total == len(expected), kind


@pytest.mark.parametrize("kind", KINDS)
def test_include_and_revinclude_agree_with_the_table(world, kind):
    api, (access, _) = api_for(world, kind), _expected(kind)
    visible = visible_ids(kind)
    included = bundle_of(api, f"DocumentReference?patient={P}&_include=DocumentReference:subject", access)
    assert ids_of(included, "DocumentReference") == visible, kind
    assert included["total"] == len(visible), kind
    assert ids_of(included, "Patient") == ({P} if access == "full" else set()), kind
    rev = bundle_of(api, f"Patient?_id={P}&_revinclude=DocumentReference:subject", access)
    if access == "full":
        assert ids_of(rev, "Patient") == {P} and rev["total"] == 1, kind
        assert ids_of(rev, "DocumentReference") == visible, kind
    else:
        assert ids_of(rev) == set() and rev["total"] == 0, kind


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_everything_agrees_with_the_table(world, kind, method):
    api, (access, _) = api_for(world, kind), _expected(kind)
    r = api.get(f"Patient/{P}/$everything") if method == "GET" else api.post(f"Patient/{P}/$everything")
    if access == "full":
        bundle = ok(r, 200)
        assert ids_of(bundle, "DocumentReference") == visible_ids(kind), kind
        assert "doc-mx-other" not in ids_of(bundle)
        assert ids_of(bundle, "Patient") == {P}
    elif access == "refused":
        assert r.status_code == 403, (kind, r.status_code)
    else:
        assert r.status_code in (403, 404), (kind, r.status_code)
