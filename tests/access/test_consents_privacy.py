"""Rule 2 and L1111-19: the list of authorisations and blocks (Consent) of a record is the holder's; a
professional may not read the Consents of another patient (nor learn from them who is blocked where)."""

from __future__ import annotations

from tests.access.builders import assert_not_found, assert_forbidden, ok, search_ids

SOPHIE_BLOCK = "cns-sophie-bernard-opposition-girard"


def test_holder_reads_own_consents(seed):
    holder = seed("Patient/pat-sophie-bernard")
    assert ok(holder.get(f"Consent/{SOPHIE_BLOCK}"), 200)
    found, total = search_ids(holder, "Consent?patient=pat-sophie-bernard")
    assert SOPHIE_BLOCK in found and total == len(found)


def test_professional_cannot_read_another_patients_consents(seed):
    lefebvre = seed("Practitioner/pra-antoine-lefebvre")   # MT of Claire Martin, nothing to Sophie Bernard
    assert_not_found(lefebvre.get(f"Consent/{SOPHIE_BLOCK}"))
    assert_not_found(lefebvre.get(f"Consent/{SOPHIE_BLOCK}/_history"))
    assert search_ids(lefebvre, "Consent?patient=pat-sophie-bernard") == (set(), 0)
    assert search_ids(lefebvre, "Consent?actor=Practitioner/pra-thomas-girard") == (set(), 0)
    found, _ = search_ids(lefebvre, "Consent?_count=1000")
    assert not any("sophie-bernard" in i for i in found)


def test_unrelated_professional_finds_no_consent_at_all(seed):
    le_gall = seed("Practitioner/pra-yann-le-gall")
    assert search_ids(le_gall, "Consent") == (set(), 0)
    assert search_ids(le_gall, "Consent?actor=Practitioner/pra-yann-le-gall") == (set(), 0)
    # not even the (lifted) block that names him
    assert_not_found(le_gall.get("Consent/cns-paul-henry-opposition-le-gall-levee"))


def test_blocked_professional_cannot_read_the_block(seed):
    girard = seed("Practitioner/pra-thomas-girard")
    assert_not_found(girard.get(f"Consent/{SOPHIE_BLOCK}"))
    assert SOPHIE_BLOCK not in search_ids(girard, "Consent?_count=1000")[0]


def test_patient_cannot_read_another_patients_consents(seed):
    other = seed("Patient/pat-claire-martin")
    assert_not_found(other.get(f"Consent/{SOPHIE_BLOCK}"))
    assert search_ids(other, "Consent?patient=pat-sophie-bernard") == (set(), 0)
    found, _ = search_ids(other, "Consent")
    assert all("claire-martin" in i for i in found)


def test_medecin_traitant_reads_the_consents_of_his_patient(seed):
    garnier = seed("Practitioner/pra-helene-garnier")   # MT of Sophie Bernard
    assert ok(garnier.get(f"Consent/{SOPHIE_BLOCK}"), 200)


def test_legal_representative_of_a_minor_reads_the_minors_consents_not_others(seed):
    mother = seed("RelatedPerson/rp-leo-martin-mere")
    assert search_ids(mother, "Consent?patient=pat-sophie-bernard") == (set(), 0)
    assert_not_found(mother.get(f"Consent/{SOPHIE_BLOCK}"))
