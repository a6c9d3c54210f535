"""Rule 4 (R1111-49, L1111-16) and rule 5: a document the holder masks (MASQUE_PS) is invisible to every
professional except its author, the author's establishment and the médecin traitant. Invisible means: 404 on
read (its existence is itself sensitive), absent from searches, includes, $everything and search totals.
Only the holder (or a legal representative) masks and unmasks, by $mask/$unmask or by PATCH/update of
securityLabel: the same rule."""

from __future__ import annotations

import base64

import pytest

from fhir_server.access.decisions import VISIBILITY_SYSTEM
from tests.access.builders import (JSON_PATCH, MASQUE_PS, assert_forbidden, assert_not_found, care_team, document,
                                   ids_of, label, ok, params, patient, permit, practitioner, practitioner_role, put,
                                   search_ids)

P = "pat-msk"
MASKED, PLAIN = "doc-msk-masked", "doc-msk-plain"
AUTHOR, MT, OTHER_GP, TEAM, COLLEAGUE = ("Practitioner/pra-author", "Practitioner/pra-mt", "Practitioner/pra-other-gp",
                                         "Practitioner/pra-team", "Practitioner/pra-colleague")
CLINIC = "Organization/org-clinic"


@pytest.fixture
def record(actors):
    s = actors.system
    for pra in ("pra-author", "pra-mt", "pra-other-gp", "pra-team", "pra-colleague"):
        put(s, practitioner(pra))
    put(s, patient(P, gps=("pra-mt",)))
    for pra in ("pra-author", "pra-colleague", "pra-team"):   # acting for the clinic needs a PractitionerRole
        put(s, practitioner_role(f"prr-{pra}", pra, CLINIC.split("/")[1]))
    put(s, care_team("ct-msk", P, (TEAM,)))
    put(s, permit("cns-msk-gp", P, OTHER_GP))
    put(s, permit("cns-msk-colleague", P, COLLEAGUE))
    put(s, document(MASKED, P, (AUTHOR, CLINIC), labels=(MASQUE_PS,)))
    put(s, document(PLAIN, P, (AUTHOR, CLINIC)))
    put(s, {"resourceType": "Binary", "id": "bin-msk-masked", "contentType": "text/plain",
            "securityContext": {"reference": f"DocumentReference/{MASKED}"},
            "data": base64.b64encode(b"Document fictif").decode()})
    return actors


def _does_not_see(api, doc: str = MASKED, visible: set[str] = frozenset({PLAIN})) -> None:
    assert_not_found(api.get(f"DocumentReference/{doc}"))
    assert_not_found(api.get(f"DocumentReference/{doc}/_history/1"))
    assert_not_found(api.get(f"DocumentReference/{doc}/_history"))
    assert api.get("Binary/bin-msk-masked").status_code == 404
    found, total = search_ids(api, f"DocumentReference?patient={P}")
    assert found == set(visible) and total == len(visible)
    for query in (f"DocumentReference?_id={doc}", f"DocumentReference?security-label={VISIBILITY_SYSTEM}|{MASQUE_PS}",
                  f"DocumentReference?author={AUTHOR}&patient={P}"):
        found, total = search_ids(api, query)
        assert doc not in found, query
    assert search_ids(api, f"DocumentReference?_id={doc}")[1] == 0
    count = ok(api.get(f"DocumentReference?patient={P}&_summary=count"), 200)
    assert count["total"] == len(visible)
    paged = ok(api.get(f"DocumentReference?patient={P}&_count=1"), 200)
    assert paged["total"] == len(visible)
    everything = ok(api.get(f"Patient/{P}/$everything"), 200)
    assert doc not in ids_of(everything, "DocumentReference")
    assert ids_of(everything, "DocumentReference") == set(visible)
    assert "bin-msk-masked" not in ids_of(everything)
    rev = ok(api.get(f"Patient?_id={P}&_revinclude=DocumentReference:subject"), 200)
    assert ids_of(rev, "DocumentReference") == set(visible)


def _sees(api, doc: str = MASKED, *, whole_record: bool = True) -> None:
    assert ok(api.get(f"DocumentReference/{doc}"), 200)["id"] == doc
    assert ok(api.get(f"DocumentReference/{doc}/_history"), 200)["total"] >= 1
    found, total = search_ids(api, f"DocumentReference?patient={P}")
    assert doc in found and total == len(found)
    if not whole_record:
        return
    assert doc in ids_of(ok(api.get(f"Patient/{P}/$everything"), 200), "DocumentReference")
    assert doc in ids_of(ok(api.get(f"Patient?_id={P}&_revinclude=DocumentReference:subject"), 200))


def test_masked_document_hidden_from_other_gp(record):
    _does_not_see(record(OTHER_GP))


def test_masked_document_hidden_from_care_team_member(record):
    _does_not_see(record(TEAM))


def test_masked_document_hidden_from_colleague_of_another_establishment(record):
    _does_not_see(record(COLLEAGUE, organization="Organization/org-elsewhere"))


def test_masked_document_visible_to_its_author(record):
    put(record.system, permit("cns-msk-author", P, AUTHOR))
    _sees(record(AUTHOR))


def test_masked_document_visible_to_its_author_without_other_authorisation(record):
    """decisions.AUTHOR_SEES_OWN_DOCUMENTS: the author sees their masked document even with no authorisation
    (read, history, search; $everything is for those with access to the record)."""
    _sees(record(AUTHOR), whole_record=False)


def test_masked_document_visible_to_the_authors_establishment(record):
    _sees(record(COLLEAGUE, organization=CLINIC))


def test_masked_document_visible_to_medecin_traitant(record):
    _sees(record(MT))


def test_masked_document_visible_to_holder(record):
    _sees(record(f"Patient/{P}"))


def test_masked_document_hidden_from_professional_even_when_listed_as_author_organization_only_in_token(record):
    """The establishment exception needs the establishment among the document's authors: a token naming another
    organisation gives nothing."""
    _does_not_see(record(TEAM, organization="Organization/org-some-other-clinic"))


def test_masked_binary_hidden_from_other_gp_but_visible_to_author(record):
    assert_not_found(record(OTHER_GP).get("Binary/bin-msk-masked"))
    assert record(AUTHOR).get("Binary/bin-msk-masked").status_code == 200


def test_holder_masks_then_unmasks(record):
    holder, gp = record(f"Patient/{P}"), record(OTHER_GP)
    _sees(gp, PLAIN)
    masked = ok(holder.post(f"DocumentReference/{PLAIN}/$mask", params()), 200)
    assert MASQUE_PS in {c["code"] for l in masked["securityLabel"] for c in l["coding"]}
    _does_not_see(gp, PLAIN, visible=set())
    _sees(record(AUTHOR), PLAIN, whole_record=False)
    _sees(record(MT), PLAIN)
    unmasked = ok(holder.post(f"DocumentReference/{PLAIN}/$unmask", params()), 200)
    assert MASQUE_PS not in {c.get("code") for l in unmasked.get("securityLabel", []) for c in l["coding"]}
    _sees(gp, PLAIN)


def test_holder_masks_by_patch_of_security_label(record):
    holder = record(f"Patient/{P}")
    current = ok(holder.get(f"DocumentReference/{PLAIN}"))
    r = holder.patch(f"DocumentReference/{PLAIN}", [{"op": "add", "path": "/securityLabel/-",
                                                    "value": label(MASQUE_PS)}], headers=JSON_PATCH)
    ok(r, 200)
    _does_not_see(record(OTHER_GP), PLAIN, visible=set())
    assert len(current["securityLabel"]) + 1 == len(ok(holder.get(f"DocumentReference/{PLAIN}"))["securityLabel"])


def test_holder_unmasks_by_update_of_security_label(record):
    holder = record(f"Patient/{P}")
    current = ok(holder.get(f"DocumentReference/{MASKED}"))
    current["securityLabel"] = [l for l in current["securityLabel"] if l["coding"][0]["code"] != MASQUE_PS]
    current.pop("meta", None)
    ok(holder.put(f"DocumentReference/{MASKED}", current), 200)
    _sees(record(OTHER_GP))


@pytest.mark.parametrize("who", [MT, AUTHOR, TEAM, OTHER_GP])
def test_professional_cannot_mask_a_document(record, who):
    assert_forbidden(record(who).post(f"DocumentReference/{PLAIN}/$mask", params()), "holder")
    r = record(who).patch(f"DocumentReference/{PLAIN}", [{"op": "add", "path": "/securityLabel/-",
                                                         "value": label(MASQUE_PS)}], headers=JSON_PATCH)
    assert_forbidden(r, "holder")
    _sees(record(OTHER_GP), PLAIN)


@pytest.mark.parametrize("who", [MT, AUTHOR])
def test_professional_cannot_unmask_a_document(record, who):
    assert_forbidden(record(who).post(f"DocumentReference/{MASKED}/$unmask", params()), "holder")
    current = ok(record(who).get(f"DocumentReference/{MASKED}"))
    r = record(who).patch(f"DocumentReference/{MASKED}", [{"op": "replace", "path": "/securityLabel",
                                                          "value": current["securityLabel"][:1]}], headers=JSON_PATCH)
    assert_forbidden(r)
    _does_not_see(record(OTHER_GP))


def test_professional_cannot_create_a_masked_document(record):
    """Masking is the holder's choice: a professional cannot write a document already masked."""
    body = {k: v for k, v in document("x", P, (TEAM,), labels=(MASQUE_PS,)).items() if k != "id"}
    assert_forbidden(record(TEAM).post("DocumentReference", body))


def test_other_gp_cannot_change_a_masked_document_he_cannot_see(record):
    gp = record(OTHER_GP)
    assert_not_found(gp.patch(f"DocumentReference/{MASKED}", [{"op": "replace", "path": "/status",
                                                              "value": "entered-in-error"}], headers=JSON_PATCH))
    assert_not_found(gp.delete(f"DocumentReference/{MASKED}"))
    assert_not_found(gp.post(f"DocumentReference/{MASKED}/$reveal-to-patient", params()))
    body = document(MASKED, P, (AUTHOR, CLINIC), labels=(MASQUE_PS,))
    assert_not_found(gp.put(f"DocumentReference/{MASKED}", body))
    assert ok(record.system.get(f"DocumentReference/{MASKED}"))["meta"]["versionId"] == "1"


def test_seeded_masked_document_hidden_from_lambert(seed):
    doc = "doc-claire-martin-cr-consultation-gynecologie-2026-05"
    lambert = seed("Practitioner/pra-olivier-lambert")
    assert_not_found(lambert.get(f"DocumentReference/{doc}"))
    found, total = search_ids(lambert, "DocumentReference?patient=pat-claire-martin")
    assert doc not in found and total == len(found) == 3
    for who in ("Practitioner/pra-nathalie-fontaine", "Practitioner/pra-antoine-lefebvre", "Patient/pat-claire-martin"):
        assert seed(who).get(f"DocumentReference/{doc}").status_code == 200, who


def test_seeded_masked_document_of_gerard_bonnet(seed):
    doc = "doc-gerard-bonnet-cr-tabacologie-2026-05"
    moreau = seed("Practitioner/pra-isabelle-moreau")
    assert ok(moreau.get("Patient/pat-gerard-bonnet"), 200)
    assert_not_found(moreau.get(f"DocumentReference/{doc}"))
    assert doc not in search_ids(moreau, "DocumentReference?patient=pat-gerard-bonnet")[0]
    for who in ("Practitioner/pra-helene-garnier", "Practitioner/pra-antoine-lefebvre"):
        assert seed(who).get(f"DocumentReference/{doc}").status_code == 200, who
