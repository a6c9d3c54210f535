"""Rule 3 (L1111-19, DMP status INTERDIT): a professional or establishment the holder blocked has no access at
all, whatever any other authorisation says (care team, Consent permit, authorship, médecin traitant, emergency
mode), on every path (read, vread, history, search, _include/_revinclude, $everything, Binary, writes), and
cannot be authorised (by itself, by a colleague or by the holder)."""

from __future__ import annotations

import base64

import pytest

from tests.access.builders import (assert_not_found, assert_forbidden, care_team, deny, document, ok, params, patient, permit,
                                   practitioner, put, ref, search_ids)

P = "pat-blk"
OWN, OTHER = "doc-blk-own", "doc-blk-other"
BLOCKED = "Practitioner/pra-blocked"


@pytest.fixture
def record(actors):
    s = actors.system
    for pra in ("pra-blocked", "pra-mt", "pra-colleague", "pra-radiologist"):
        put(s, practitioner(pra))
    put(s, patient(P, gps=("pra-mt", "pra-blocked-mt")))
    put(s, care_team("ct-blk", P, (BLOCKED, "Practitioner/pra-colleague"), on_behalf_of="Organization/org-chu"))
    put(s, permit("cns-blk-permit", P, BLOCKED))
    put(s, deny("cns-blk-deny", P, BLOCKED))
    put(s, deny("cns-blk-deny-mt", P, "Practitioner/pra-blocked-mt"))
    put(s, document(OWN, P, (BLOCKED, "Organization/org-chu")))
    put(s, document(OTHER, P, ("Practitioner/pra-mt",)))
    put(s, {"resourceType": "Binary", "id": "bin-blk-own", "contentType": "text/plain",
            "securityContext": {"reference": f"DocumentReference/{OWN}"},
            "data": base64.b64encode(b"Document fictif").decode()})
    put(s, {"resourceType": "Observation", "id": "obs-blk", "status": "final", "subject": {"reference": f"Patient/{P}"},
            "code": {"text": "poids"}, "valueQuantity": {"value": 70, "unit": "kg"}})
    # the establishment block: a radiologist authorised personally, acting for a blocked imaging centre
    put(s, permit("cns-blk-permit-radio", P, "Practitioner/pra-radiologist"))
    put(s, deny("cns-blk-deny-imaging", P, "Organization/org-imaging"))
    return actors


def _gets_nothing(api, *, write: bool = True) -> None:
    for path in (f"Patient/{P}", f"DocumentReference/{OWN}", f"DocumentReference/{OTHER}",
                 f"DocumentReference/{OWN}/_history/1", f"Patient/{P}/_history/1", "Observation/obs-blk",
                 f"DocumentReference/{OWN}/_history", f"Patient/{P}/_history"):
        # issue 10: the record (Patient) answers 403, what it holds 404 like an absent id
        (assert_forbidden if path.startswith("Patient/") else assert_not_found)(api.get(path))
    assert api.get("Binary/bin-blk-own").status_code in (403, 404)
    assert_forbidden(api.get(f"Patient/{P}/$everything"))
    assert_forbidden(api.post(f"Patient/{P}/$everything"))
    for query in (f"DocumentReference?patient={P}", f"DocumentReference?subject=Patient/{P}",
                  f"DocumentReference?_id={OWN},{OTHER}", f"DocumentReference?author={BLOCKED}",
                  "DocumentReference", f"Patient?_id={P}", f"Patient?_id={P}&_revinclude=DocumentReference:subject",
                  f"Patient?_id={P}&_revinclude=Observation:subject&_revinclude=Consent:patient",
                  f"DocumentReference?_id={OWN}&_include=DocumentReference:subject",
                  f"Observation?patient={P}", f"Consent?patient={P}", f"CareTeam?patient={P}",
                  f"CareTeam?participant={BLOCKED}", f"DocumentReference?patient={P}&_summary=count"):
        found, total = search_ids(api, query)
        assert found == set(), f"{query} leaked {found}"
        assert total in (0, None), f"{query} total {total}"
    if write:
        r = api.post("DocumentReference", {k: v for k, v in document("x", P, (BLOCKED,)).items() if k != "id"})
        assert_forbidden(r)


def test_blocked_professional_gets_nothing_even_in_care_team(record):
    _gets_nothing(record(BLOCKED))


def test_blocked_professional_gets_nothing_even_acting_for_the_care_team_organization(record):
    _gets_nothing(record(BLOCKED, organization="Organization/org-chu"))


def test_blocked_professional_is_told_why(record):
    assert_forbidden(record(BLOCKED).get(f"Patient/{P}"), "block")


def test_blocked_medecin_traitant_gets_nothing(record):
    _gets_nothing(record("Practitioner/pra-blocked-mt"))


def test_blocked_professional_gets_nothing_in_bris_de_glace(record):
    """decisions.BLOCK_APPLIES_IN_EMERGENCY"""
    _gets_nothing(record(BLOCKED, mode="bris_de_glace", reason="patient inconscient"), write=False)


def test_blocked_professional_gets_nothing_in_centre_15(record):
    _gets_nothing(record(BLOCKED, mode="centre_15"), write=False)


def test_unblocked_colleague_of_the_same_care_team_sees_the_record(record):
    api = record("Practitioner/pra-colleague")
    assert ok(api.get(f"Patient/{P}"), 200)
    found, total = search_ids(api, f"DocumentReference?patient={P}")
    assert found == {OWN, OTHER} and total == 2


def test_blocked_professional_cannot_authorize_itself(record):
    before = search_ids(record.system, f"Consent?patient={P}")[0]
    assert_forbidden(record(BLOCKED).post(f"Patient/{P}/$authorize", params()), "block")
    assert_forbidden(record(BLOCKED).post(f"Patient/{P}/$authorize", params(actor=ref(BLOCKED))), "block")
    assert search_ids(record.system, f"Consent?patient={P}")[0] == before
    _gets_nothing(record(BLOCKED))


def test_colleague_cannot_authorize_a_blocked_professional(record):
    assert_forbidden(record("Practitioner/pra-colleague").post(f"Patient/{P}/$authorize", params(actor=ref(BLOCKED))),
                     "block")
    _gets_nothing(record(BLOCKED))


def test_holder_cannot_authorize_a_blocked_professional_without_lifting_the_block(record):
    assert_forbidden(record(f"Patient/{P}").post(f"Patient/{P}/$authorize", params(actor=ref(BLOCKED))), "block")
    _gets_nothing(record(BLOCKED))


def test_blocked_professional_cannot_write_consents_directly(record):
    r = record(BLOCKED).post("Consent", {k: v for k, v in permit("x", P, BLOCKED).items() if k != "id"})
    assert_forbidden(r)
    r = record(BLOCKED).put("Consent/cns-blk-deny", {**permit("cns-blk-deny", P, BLOCKED)})
    assert r.status_code in (403, 404)
    assert ok(record.system.get("Consent/cns-blk-deny"))["provision"]["type"] == "deny"


def test_blocked_professional_cannot_delete_or_change_own_document(record):
    api = record(BLOCKED)
    assert_not_found(api.delete(f"DocumentReference/{OWN}"))
    r = api.patch(f"DocumentReference/{OWN}", [{"op": "replace", "path": "/status", "value": "entered-in-error"}],
                  headers={"Content-Type": "application/json-patch+json"})
    assert_not_found(r)
    assert ok(record.system.get(f"DocumentReference/{OWN}"))["status"] == "current"


def test_blocked_establishment_beats_a_personal_authorisation(record):
    _gets_nothing(record("Practitioner/pra-radiologist", organization="Organization/org-imaging"))


def test_personal_authorisation_works_for_a_professional_outside_the_blocked_establishment(record):
    api = record("Practitioner/pra-radiologist", organization="Organization/org-other-centre")
    assert ok(api.get(f"Patient/{P}"), 200)


def test_holder_opposes_then_withdraws_opposition(record):
    holder, api = record(f"Patient/{P}"), record("Practitioner/pra-colleague")
    consent = ok(holder.post(f"Patient/{P}/$oppose", params(actor=ref("Practitioner/pra-colleague"))), 200, 201)
    assert consent["provision"]["type"] == "deny"
    _gets_nothing(api)
    ok(holder.post(f"Patient/{P}/$withdraw-opposition", params(actor=ref("Practitioner/pra-colleague"))), 200)
    assert ok(api.get(f"Patient/{P}"), 200)
    # the lifted block keeps its Consent, inactive
    found, _ = search_ids(record.system, f"Consent?patient={P}&status=inactive")
    assert consent["id"] in found


def test_withdrawn_opposition_gives_no_right_by_itself(record):
    holder = record(f"Patient/{P}")
    ok(holder.post(f"Patient/{P}/$oppose", params(actor=ref("Practitioner/pra-stranger"))), 200, 201)
    ok(holder.post(f"Patient/{P}/$withdraw-opposition", params(actor=ref("Practitioner/pra-stranger"))), 200)
    assert_forbidden(record("Practitioner/pra-stranger").get(f"Patient/{P}"))
    # ... but an authorisation is no longer refused
    ok(holder.post(f"Patient/{P}/$authorize", params(actor=ref("Practitioner/pra-stranger"))), 200, 201)
    assert ok(record("Practitioner/pra-stranger").get(f"Patient/{P}"), 200)


def test_seeded_blocked_cardiologist_gets_nothing(seed):
    api = seed("Practitioner/pra-thomas-girard")
    assert_forbidden(api.get("Patient/pat-sophie-bernard"), "block")
    assert_not_found(api.get("DocumentReference/doc-sophie-bernard-lettre-liaison-sortie-2026-03"))
    assert_forbidden(api.get("Patient/pat-sophie-bernard/$everything"))
    found, total = search_ids(api, "DocumentReference?patient=pat-sophie-bernard")
    assert found == set() and total == 0
    found, _ = search_ids(api, "Patient?_id=pat-sophie-bernard&_revinclude=DocumentReference:subject")
    assert found == set()
    assert_forbidden(api.post("Patient/pat-sophie-bernard/$authorize", params()))
    # he keeps his access to the other records where he is authorised
    assert seed("Practitioner/pra-isabelle-moreau").get("Patient/pat-sophie-bernard").status_code == 200


def test_seeded_blocked_establishment(seed):
    api = seed("Practitioner/pra-olivier-lambert", organization="Organization/org-imagerie-bellecour")
    assert_forbidden(api.get("Patient/pat-nicolas-fabre"))
    found, total = search_ids(api, "DocumentReference?patient=pat-nicolas-fabre")
    assert found == set() and total == 0


def test_blocked_establishment_applies_whatever_the_token_claims(record):
    """Rule 3: the block on an establishment reaches its professionals (PractitionerRole), even when the token
    names no organisation or another one."""
    put(record.system, {"resourceType": "PractitionerRole", "id": "prr-radiologist", "active": True,
                        "practitioner": {"reference": "Practitioner/pra-radiologist"},
                        "organization": {"reference": "Organization/org-imaging"}})
    _gets_nothing(record("Practitioner/pra-radiologist"))
    _gets_nothing(record("Practitioner/pra-radiologist", organization="Organization/org-other-centre"))


def test_seeded_blocked_establishment_without_organization_claim(seed):
    api = seed("Practitioner/pra-olivier-lambert")
    assert_forbidden(api.get("Patient/pat-nicolas-fabre"), "block")
    assert search_ids(api, "DocumentReference?patient=pat-nicolas-fabre") == (set(), 0)
    # his other authorisations are untouched
    assert api.get("Patient/pat-claire-martin").status_code == 200


def test_a_patient_read_asks_for_the_patient_once_and_still_sees_the_block(record, monkeypatch):
    """The record's facts reuse the Patient the read has just loaded (policy.know_patient): one store query for
    it, not two, and the Consents behind the block are still read."""
    from fhir_server.storage.mongo import MongoStore
    asked = []
    for name in ("find", "read_doc"):
        plain = getattr(MongoStore, name)
        monkeypatch.setattr(MongoStore, name, lambda self, coll, *a, _plain=plain, **k:
                            asked.append(coll) or _plain(self, coll, *a, **k))
    assert_forbidden(record(BLOCKED).get(f"Patient/{P}"), "block")
    assert asked.count("Patient") == 1 and "Consent" in asked
    asked.clear()
    assert ok(record("Practitioner/pra-mt").get(f"Patient/{P}"))["id"] == P
    assert asked.count("Patient") == 1
