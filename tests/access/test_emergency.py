"""Rule 9 (L1111-17 I, R1111-48): bris_de_glace needs a free-text reason and is refused when the holder objected
to it; centre_15 needs no authorisation and is refused when the holder objected to it; emergency access does not
show MASQUE_PS documents (decisions.EMERGENCY_SEES_MASKED = False), is read-only (EMERGENCY_MAY_WRITE = False),
does not open closed records nor records that block the professional; the holder and the médecin traitant are
told afterwards."""

from __future__ import annotations

import pytest

from tests.access.builders import (MASQUE_PS, assert_forbidden, assert_not_found, document, ids_of, ok,
                                   params, patient, practitioner, put, search_ids)

ROUX = "Practitioner/pra-emilie-roux"
CHEVALIER = "Practitioner/pra-francois-chevalier"
BONNET_MASKED = "doc-gerard-bonnet-cr-tabacologie-2026-05"
BONNET_SYNTHESE = "doc-gerard-bonnet-synthese-2026-09"
REASON = "patient inconscient aux urgences"


def bdg(seed, who=ROUX, reason=REASON):
    return seed(who, mode="bris_de_glace", reason=reason)


def c15(seed, who=CHEVALIER):
    return seed(who, mode="centre_15")


def _reads_but_not_masked(api) -> None:
    assert ok(api.get("Patient/pat-gerard-bonnet"), 200)
    assert ok(api.get(f"DocumentReference/{BONNET_SYNTHESE}"), 200)
    assert_not_found(api.get(f"DocumentReference/{BONNET_MASKED}"))
    found, total = search_ids(api, "DocumentReference?patient=pat-gerard-bonnet")
    assert BONNET_SYNTHESE in found and BONNET_MASKED not in found and total == len(found)
    everything = ok(api.get("Patient/pat-gerard-bonnet/$everything"), 200)
    assert BONNET_SYNTHESE in ids_of(everything) and BONNET_MASKED not in ids_of(everything)
    rev = ok(api.get("Patient?_id=pat-gerard-bonnet&_revinclude=DocumentReference:subject"), 200)
    assert BONNET_MASKED not in ids_of(rev)


def test_bris_de_glace_with_a_reason_reads_the_record_but_no_masked_document(seed):
    _reads_but_not_masked(bdg(seed))


def test_centre_15_reads_the_record_but_no_masked_document(seed):
    _reads_but_not_masked(c15(seed))


def test_the_same_professional_in_normal_mode_is_refused(seed):
    assert_forbidden(seed(ROUX).get("Patient/pat-gerard-bonnet"))
    assert_forbidden(seed(CHEVALIER).get("Patient/pat-gerard-bonnet"))
    assert search_ids(seed(ROUX), "DocumentReference?patient=pat-gerard-bonnet") == (set(), 0)


def test_bris_de_glace_without_a_reason_is_refused(seed):
    for reason in (None, "   "):
        claims = {"sub": ROUX, "scope": "user/*.cruds", "purpose_of_use": "bris_de_glace"}
        if reason is not None:
            claims["access_reason"] = reason
        api = seed.raw(claims)
        r = api.get("Patient/pat-gerard-bonnet")
        assert r.status_code in (401, 403), r.text
        if r.status_code == 403:
            assert_forbidden(r, "reason")
            assert search_ids(api, "DocumentReference?patient=pat-gerard-bonnet") == (set(), 0)
            assert search_ids(api, "DocumentReference") == (set(), 0)
            assert_forbidden(api.get("Patient/pat-gerard-bonnet/$everything"))


def test_token_service_refuses_to_mint_bris_de_glace_without_reason(seed):
    from fhir_server.errors import BadRequest
    with pytest.raises(BadRequest):
        seed.app.state.tokens.mint(ROUX, mode="bris_de_glace")


def test_bris_de_glace_refused_after_the_holder_objected(seed):
    api = bdg(seed)
    assert_forbidden(api.get("Patient/pat-michel-fournier"), "bris_de_glace")
    assert_forbidden(api.get("Patient/pat-michel-fournier/$everything"))
    assert search_ids(api, "DocumentReference?patient=pat-michel-fournier") == (set(), 0)
    assert search_ids(api, "Patient?_id=pat-michel-fournier&_revinclude=DocumentReference:subject") == (set(), 0)
    # centre_15 is still allowed on the same record
    assert ok(c15(seed).get("Patient/pat-michel-fournier"), 200)


def test_centre_15_refused_after_the_holder_objected(seed):
    api = c15(seed)
    assert_forbidden(api.get("Patient/pat-jacqueline-perrin"), "centre_15")
    assert search_ids(api, "DocumentReference?patient=pat-jacqueline-perrin") == (set(), 0)
    assert_forbidden(api.get("Patient/pat-jacqueline-perrin/$everything"))
    assert ok(bdg(seed).get("Patient/pat-jacqueline-perrin"), 200)


def test_emergency_does_not_open_a_closed_record(seed):
    for api in (bdg(seed), c15(seed)):
        assert_forbidden(api.get("Patient/pat-monique-renard"), "closed")
        assert search_ids(api, "DocumentReference?patient=pat-monique-renard") == (set(), 0)


def test_emergency_does_not_open_a_record_that_blocks_the_professional(seed):
    api = bdg(seed, "Practitioner/pra-thomas-girard")
    assert_forbidden(api.get("Patient/pat-sophie-bernard"), "block")
    assert search_ids(api, "DocumentReference?patient=pat-sophie-bernard") == (set(), 0)


def test_emergency_search_across_records_never_lists_what_it_may_not_see(seed):
    """A search without a patient, in emergency mode: no masked document, nothing from records that objected to
    that mode, that are closed, or that block the professional."""
    everything = search_ids(seed.system, "DocumentReference?_count=1000")[0]
    masked = search_ids(seed.system, "DocumentReference?security-label=https://mos.esante.gouv.fr/NOS/"
                                     "TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument|"
                                     f"{MASQUE_PS}")[0]
    assert BONNET_MASKED in masked

    def of(pid):
        return search_ids(seed.system, f"DocumentReference?patient={pid}")[0]

    cases = [(bdg(seed), masked | of("pat-michel-fournier") | of("pat-monique-renard")),
             (c15(seed), masked | of("pat-jacqueline-perrin") | of("pat-monique-renard")),
             (bdg(seed, "Practitioner/pra-thomas-girard"),
              masked | of("pat-sophie-bernard") | of("pat-monique-renard"))]
    for api, forbidden in cases:
        found, total = search_ids(api, "DocumentReference?_count=1000")
        assert found and found <= everything
        assert not found & forbidden, found & forbidden
        assert total == len(found)
        count = ok(api.get(f"DocumentReference?security-label=https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibilite"
                           f"Document/FHIR/TRE-A07-StatutVisibiliteDocument|{MASQUE_PS}&_summary=count"), 200)
        assert count["total"] == 0


@pytest.mark.parametrize("mode", ["bris_de_glace", "centre_15"])
def test_emergency_access_is_read_only(seed, mode):
    api = seed(ROUX, mode=mode, reason=REASON)
    body = {k: v for k, v in document("x", "pat-gerard-bonnet", (ROUX,)).items() if k != "id"}
    assert_forbidden(api.post("DocumentReference", body), "read-only")


def test_medecin_traitant_in_emergency_mode_keeps_the_full_view(seed):
    api = bdg(seed, "Practitioner/pra-antoine-lefebvre")
    assert ok(api.get(f"DocumentReference/{BONNET_MASKED}"), 200)


# -- the holder's objections, changed through $oppose-emergency-access -------------------------------
@pytest.fixture
def record(actors):
    put(actors.system, practitioner("pra-urgentiste"))
    put(actors.system, patient("pat-urg", gps=("pra-mt",)))
    put(actors.system, document("doc-urg", "pat-urg", ("Practitioner/pra-mt",)))
    put(actors.system, document("doc-urg-masked", "pat-urg", ("Practitioner/pra-mt",), labels=(MASQUE_PS,)))
    return actors


@pytest.mark.parametrize("mode", ["bris_de_glace", "centre_15"])
def test_holder_objects_to_an_emergency_mode_then_withdraws(record, mode):
    api = record("Practitioner/pra-urgentiste", mode=mode, reason=REASON)
    other = "centre_15" if mode == "bris_de_glace" else "bris_de_glace"
    holder = record("Patient/pat-urg")
    assert ok(api.get("Patient/pat-urg"), 200)
    consent = ok(holder.post("Patient/pat-urg/$oppose-emergency-access", params(mode=mode)), 200, 201)
    assert consent["provision"]["type"] == "deny"
    assert_forbidden(api.get("Patient/pat-urg"), mode)
    assert search_ids(api, "DocumentReference?patient=pat-urg") == (set(), 0)
    assert ok(record("Practitioner/pra-urgentiste", mode=other, reason=REASON).get("Patient/pat-urg"), 200)
    ok(holder.post("Patient/pat-urg/$oppose-emergency-access", params(mode=mode, withdraw=True)), 200)
    assert ok(api.get("Patient/pat-urg"), 200)
    assert search_ids(api, "DocumentReference?patient=pat-urg")[0] == {"doc-urg"}


def test_oppose_emergency_access_with_an_unknown_mode_is_400(record):
    r = record("Patient/pat-urg").post("Patient/pat-urg/$oppose-emergency-access", params(mode="normal"))
    assert r.status_code == 400


def test_professional_cannot_object_for_the_holder(record):
    assert_forbidden(record("Practitioner/pra-mt").post("Patient/pat-urg/$oppose-emergency-access",
                                                        params(mode="centre_15")), "holder")
    assert_forbidden(record("Practitioner/pra-urgentiste", mode="centre_15").post(
        "Patient/pat-urg/$oppose-emergency-access", params(mode="centre_15", withdraw=True)))


def test_emergency_access_notifies_the_holder_and_the_medecin_traitant(record):
    api = record("Practitioner/pra-urgentiste", mode="bris_de_glace", reason=REASON)
    assert ok(api.get("Patient/pat-urg"), 200)
    messages = [e["resource"] for e in ok(record.system.get("Communication?subject=Patient/pat-urg"), 200)
                .get("entry") or []]
    assert len(messages) == 1
    recipients = {r["reference"] for r in messages[0]["recipient"]}
    assert recipients == {"Patient/pat-urg", "Practitioner/pra-mt"}
    text = messages[0]["payload"][0]["contentString"]
    assert "bris_de_glace" in text and "pra-urgentiste" in text and REASON in text
    # the holder reads it
    assert messages[0]["id"] in ids_of(ok(record("Patient/pat-urg").get("Communication?subject=Patient/pat-urg")))


def test_refused_emergency_access_sends_no_notification(record):
    ok(record("Patient/pat-urg").post("Patient/pat-urg/$oppose-emergency-access", params(mode="centre_15")), 200, 201)
    assert record("Practitioner/pra-urgentiste", mode="centre_15").get("Patient/pat-urg").status_code == 403
    assert search_ids(record.system, "Communication?subject=Patient/pat-urg") == (set(), 0)


@pytest.mark.parametrize("mode", ["bris_de_glace", "centre_15"])
def test_emergency_mode_cannot_authorize(record, mode):
    api = record("Practitioner/pra-urgentiste", mode=mode, reason=REASON)
    assert_forbidden(api.post("Patient/pat-urg/$authorize", params()))


def test_emergency_access_through_everything_notifies(record):
    api = record("Practitioner/pra-urgentiste", mode="centre_15")
    assert ok(api.get("Patient/pat-urg/$everything"), 200)
    found, _ = search_ids(record.system, "Communication?subject=Patient/pat-urg")
    assert len(found) == 1
