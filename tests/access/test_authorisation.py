"""Rule 2 (R1111-46, L1111-17 II): a professional needs an authorisation. Care-team members are presumed
authorised, others need a Consent that permits them for a period covering now; expired, not yet started or
inactive authorisations and inactive care teams give nothing; $authorize records a new authorisation."""

from __future__ import annotations

import pytest

from tests.access.builders import (assert_forbidden, assert_not_found, care_team, days, document, ok, params,
                                   organization, patient, permit, practitioner, practitioner_role, put, ref,
                                   search_ids)

P = "pat-auth"
DOC, OTHER_DOC = "doc-auth-cr", "doc-auth-author-own"


@pytest.fixture
def record(actors):
    s = actors.system
    for pra in ("pra-mt", "pra-team", "pra-perm", "pra-temp", "pra-expired", "pra-future", "pra-inactive",
                "pra-old-team", "pra-left-team", "pra-none", "pra-author", "pra-ehpad-nurse"):
        put(s, practitioner(pra))
    put(s, patient(P, gps=("pra-mt",)))
    put(s, care_team("ct-auth", P, ("Practitioner/pra-team",)))
    put(s, care_team("ct-auth-ehpad", P, ("Organization/org-ehpad",)))
    put(s, organization("org-ehpad"))
    put(s, practitioner_role("prr-ehpad-nurse", "pra-ehpad-nurse", "org-ehpad"))   # acts for it (issue 10)
    put(s, care_team("ct-auth-old", P, ("Practitioner/pra-old-team",), status="inactive"))
    left = care_team("ct-auth-left", P, ("Practitioner/pra-left-team",))
    left["participant"][0]["period"] = {"start": days(-100), "end": days(-5)}
    put(s, left)
    put(s, permit("cns-perm", P, "Practitioner/pra-perm"))
    put(s, permit("cns-temp", P, "Practitioner/pra-temp", start=days(-5), end=days(30)))
    put(s, permit("cns-expired", P, "Practitioner/pra-expired", start=days(-60), end=days(-1)))
    put(s, permit("cns-future", P, "Practitioner/pra-future", start=days(3)))
    put(s, permit("cns-inactive", P, "Practitioner/pra-inactive", status="inactive"))
    put(s, document(DOC, P, ("Practitioner/pra-mt",)))
    put(s, document(OTHER_DOC, P, ("Practitioner/pra-author",)))
    return actors


def _sees_record(api) -> None:
    assert ok(api.get(f"Patient/{P}"), 200)["id"] == P
    assert ok(api.get(f"DocumentReference/{DOC}"), 200)["id"] == DOC
    found, total = search_ids(api, f"DocumentReference?patient={P}")
    assert found == {DOC, OTHER_DOC} and total == 2
    assert ok(api.get(f"Patient/{P}/$everything"), 200)["resourceType"] == "Bundle"


def _refused(api, *words) -> None:
    assert_forbidden(api.get(f"Patient/{P}"), *words)
    assert api.get(f"DocumentReference/{DOC}").status_code in (403, 404)
    assert_forbidden(api.get(f"Patient/{P}/$everything"))
    found, total = search_ids(api, f"DocumentReference?patient={P}")
    assert found == set() and total == 0
    found, total = search_ids(api, f"Patient?_id={P}")
    assert found == set() and total == 0


def test_medecin_traitant_is_authorised(record):
    _sees_record(record("Practitioner/pra-mt"))


def test_care_team_member_is_presumed_authorised(record):
    _sees_record(record("Practitioner/pra-team"))


def test_care_team_listing_the_organization_authorises_its_professionals(record):
    _sees_record(record("Practitioner/pra-ehpad-nurse", organization="Organization/org-ehpad"))


def test_professional_of_another_organization_is_not_in_the_care_team(record):
    _refused(record("Practitioner/pra-ehpad-nurse", organization="Organization/org-other"))


def test_inactive_care_team_gives_no_access(record):
    _refused(record("Practitioner/pra-old-team"))


def test_care_team_participation_ended_gives_no_access(record):
    _refused(record("Practitioner/pra-left-team"))


def test_permanent_consent_permit_authorises(record):
    _sees_record(record("Practitioner/pra-perm"))


def test_consent_permit_with_current_period_authorises(record):
    _sees_record(record("Practitioner/pra-temp"))


def test_expired_authorisation_is_refused(record):
    _refused(record("Practitioner/pra-expired"), "authoris")


def test_authorisation_not_yet_started_is_refused(record):
    _refused(record("Practitioner/pra-future"))


def test_inactive_consent_permit_is_refused(record):
    _refused(record("Practitioner/pra-inactive"))


def test_unrelated_professional_is_refused_and_told_to_ask_consent(record):
    api = record("Practitioner/pra-none")
    _refused(api, "authoris")
    assert "$authorize" in api.get(f"Patient/{P}").json()["issue"][0]["diagnostics"]


def test_unrelated_professional_cannot_write_a_document(record):
    r = record("Practitioner/pra-none").post("DocumentReference", document("x", P, ("Practitioner/pra-none",)))
    assert_forbidden(r)
    assert r.status_code == 403


def test_authorised_professional_adds_a_document(record):
    r = record("Practitioner/pra-perm").post("DocumentReference", {
        k: v for k, v in document("x", P, ("Practitioner/pra-perm",)).items() if k != "id"})
    assert r.status_code == 201, r.text


def test_author_without_authorisation_sees_only_own_documents(record):
    """decisions.AUTHOR_SEES_OWN_DOCUMENTS: the author sees what they wrote, nothing else of the record."""
    api = record("Practitioner/pra-author")
    assert ok(api.get(f"DocumentReference/{OTHER_DOC}"), 200)["id"] == OTHER_DOC
    assert api.get(f"DocumentReference/{DOC}").status_code in (403, 404)
    found, total = search_ids(api, f"DocumentReference?patient={P}")
    assert found == {OTHER_DOC} and total == 1
    assert api.get(f"Patient/{P}").status_code in (403, 404)


def test_author_without_authorisation_cannot_add_documents(record):
    api = record("Practitioner/pra-author")
    r = api.post("DocumentReference", {k: v for k, v in document("x", P, ("Practitioner/pra-author",)).items()
                                       if k != "id"})
    assert_forbidden(r)


def test_holder_authorizes_a_professional_with_a_period(record):
    holder, api = record(f"Patient/{P}"), record("Practitioner/pra-none")
    _refused(api)
    r = holder.post(f"Patient/{P}/$authorize", params(actor=ref("Practitioner/pra-none"),
                                                        period={"start": days(-1), "end": days(10)}))
    consent = ok(r, 200, 201)
    assert consent["resourceType"] == "Consent" and consent["provision"]["type"] == "permit"
    assert consent["provision"]["period"]["end"]
    _sees_record(api)


def test_holder_authorization_with_a_past_period_gives_no_access(record):
    holder, api = record(f"Patient/{P}"), record("Practitioner/pra-none")
    ok(holder.post(f"Patient/{P}/$authorize", params(actor=ref("Practitioner/pra-none"),
                                                     period={"start": days(-20), "end": days(-2)})), 200, 201)
    _refused(api)


def test_professional_records_own_authorisation_on_patient_consent(record):
    api = record("Practitioner/pra-none")
    consent = ok(api.post(f"Patient/{P}/$authorize", params()), 200, 201)
    actors_ = [a["reference"]["reference"] for a in consent["provision"]["actor"]]
    assert actors_ == ["Practitioner/pra-none"]
    _sees_record(api)


def test_professional_records_authorisation_for_another_professional(record):
    ok(record("Practitioner/pra-team").post(f"Patient/{P}/$authorize", params(actor=ref("Practitioner/pra-none"))),
       200, 201)
    _sees_record(record("Practitioner/pra-none"))


def test_authorize_refuses_a_non_professional_actor_parameter(record):
    r = record(f"Patient/{P}").post(f"Patient/{P}/$authorize", params(actor=ref("Patient/someone-else")))
    assert r.status_code == 400


def test_other_patient_cannot_authorize_on_this_record(record):
    put(record.system, patient("pat-auth-other"))
    r = record("Patient/pat-auth-other").post(f"Patient/{P}/$authorize", params(actor=ref("Practitioner/pra-none")))
    assert_forbidden(r)
    _refused(record("Practitioner/pra-none"))


def test_revoked_authorisation_stops_access(record):
    """R1111-32: the holder may change an authorisation at any time (here: the Consent becomes inactive)."""
    api = record("Practitioner/pra-perm")
    _sees_record(api)
    consent = ok(record.system.get("Consent/cns-perm"), 200)
    consent["status"] = "inactive"
    ok(record.system.put("Consent/cns-perm", consent), 200)
    _refused(api)


def test_professional_search_without_patient_lists_only_reachable_records(record):
    put(record.system, patient("pat-auth-elsewhere"))
    put(record.system, document("doc-elsewhere", "pat-auth-elsewhere", ("Practitioner/pra-x",)))
    found, total = search_ids(record("Practitioner/pra-team"), "DocumentReference")
    assert found == {DOC, OTHER_DOC} and total == 2
    found, total = search_ids(record("Practitioner/pra-none"), "DocumentReference")
    assert found == set() and total == 0
    found, _ = search_ids(record("Practitioner/pra-none"), "Patient")
    assert found == set()


def test_unrelated_professional_gets_404_like_answer_for_unknown_documents(record):
    assert_not_found(record("Practitioner/pra-team").get("DocumentReference/does-not-exist"))


def test_author_without_authorisation_is_refused_the_rest_of_the_record_with_403(record):
    api = record("Practitioner/pra-author")
    assert_forbidden(api.get(f"Patient/{P}"), "authoris")
    assert_forbidden(api.get(f"Patient/{P}/$everything"), "authoris")


ON_BEHALF_REASON = ("server bug (leak): relationships.in_care_team treats a participant's `onBehalfOf` as if the "
                    "organisation itself were a member, for any professional acting for it, and ignores that "
                    "participant's period: every professional of the organisation reaches the record. CONTRACT.md: "
                    "an active CareTeam that lists them (or their organization) — here the organisation is not a "
                    "member")


def test_colleague_of_a_care_team_member_is_not_in_the_care_team(record):
    put(record.system, care_team("ct-auth-chu", P, ("Practitioner/pra-team",), on_behalf_of="Organization/org-chu"))
    _refused(record("Practitioner/pra-none", organization="Organization/org-chu"))


def test_care_team_participation_ended_gives_no_access_even_acting_for_the_organization(record):
    left = care_team("ct-auth-left-chu", P, ("Practitioner/pra-left-team",), on_behalf_of="Organization/org-chu")
    left["participant"][0]["period"] = {"start": days(-100), "end": days(-5)}
    put(record.system, left)
    _refused(record("Practitioner/pra-left-team", organization="Organization/org-chu"))


def test_care_team_member_acting_for_its_organization_is_in_the_care_team(record):
    put(record.system, care_team("ct-auth-chu", P, ("Practitioner/pra-none",), on_behalf_of="Organization/org-chu"))
    _sees_record(record("Practitioner/pra-none", organization="Organization/org-chu"))


def test_seeded_chu_professional_outside_the_care_team_is_refused(seed):
    for pid in ("pat-michel-fournier", "pat-sophie-bernard"):
        api = seed("Practitioner/pra-emilie-roux", organization="Organization/org-chu-lyon-confluence")
        assert_forbidden(api.get(f"Patient/{pid}"))
