"""Patient/{id}/$access-list (issue 12, item 3; L1111-19): the holder's list of who can reach the record."""

from __future__ import annotations

from tests.access.builders import assert_forbidden, flat, ok, params, ref


def entries(parameters: dict, name: str = "professional") -> list[dict]:
    return [flat({"parameter": p["part"]}) for p in parameters["parameter"] if p["name"] == name]


def personal(parameters: dict) -> dict[str, dict]:
    return {e["actor"]["reference"]: e for e in entries(parameters) if "onBehalfOf" not in e}


def test_the_holder_sees_who_and_why_with_links(seed):
    listing = personal(ok(seed("Patient/pat-david-cohen").get("Patient/pat-david-cohen/$access-list")))
    moreau = listing["Practitioner/pra-isabelle-moreau"]
    assert moreau["access"] == "authorised"
    basis = moreau["basis"] if isinstance(moreau["basis"], list) else [moreau["basis"]]
    consent = next(b for b in basis if b["kind"] == "consent")
    stored = ok(seed.system.get("Consent/cns-david-cohen-autorisation-moreau"))
    assert consent["until"] == stored["provision"]["period"]["end"] and consent["source"] == {"reference": "Consent/cns-david-cohen-autorisation-moreau"}
    assert moreau["action"] == "http://testserver/fhir/Patient/pat-david-cohen/$oppose"
    assert listing["Practitioner/pra-marc-rousseau"]["access"] == "medecin_traitant"
    # the expired authorisation leaves Lambert with his own documents only (decisions.AUTHOR_SEES_OWN_DOCUMENTS)
    assert listing["Practitioner/pra-olivier-lambert"]["access"] == "author"


def test_blocked_actors_are_listed_with_the_way_to_lift_the_block(seed):
    listing = personal(ok(seed("Patient/pat-sophie-bernard").get("Patient/pat-sophie-bernard/$access-list")))
    girard = listing["Practitioner/pra-thomas-girard"]
    assert girard["access"] == "blocked"
    assert girard["action"].endswith("/Patient/pat-sophie-bernard/$withdraw-opposition")
    assert {"kind": "block", "source": {"reference": "Consent/cns-sophie-bernard-opposition-girard"},
            "recordedBy": {"reference": "Patient/pat-sophie-bernard"}} in girard["basis"]
    assert listing["Practitioner/pra-isabelle-moreau"]["access"] == "care_team"


def test_emergency_accesses_that_took_place(fresh_seed):
    reason = {"mode": "bris_de_glace", "reason": "malaise, patient inconscient"}
    ok(fresh_seed("Practitioner/pra-emilie-roux", **reason).get("Patient/pat-gerard-bonnet"))
    listing = ok(fresh_seed("Patient/pat-gerard-bonnet").get("Patient/pat-gerard-bonnet/$access-list"))
    (emergency,) = entries(listing, "emergencyAccess")
    assert emergency["actor"] == {"reference": "Practitioner/pra-emilie-roux"} and emergency["mode"] == "bris_de_glace"
    assert emergency["action"] == ["http://testserver/fhir/Patient/pat-gerard-bonnet/$oppose",
                                   "http://testserver/fhir/Patient/pat-gerard-bonnet/$oppose-emergency-access"]
    # the holder acts on it: blocks her, and the list says so
    ok(fresh_seed("Patient/pat-gerard-bonnet").post("Patient/pat-gerard-bonnet/$oppose",
                                                   params(actor=ref("Practitioner/pra-emilie-roux"))), 200, 201)
    after = personal(ok(fresh_seed("Patient/pat-gerard-bonnet").get("Patient/pat-gerard-bonnet/$access-list")))
    assert after["Practitioner/pra-emilie-roux"]["access"] == "blocked"


def test_a_representative_does_not_learn_of_the_minors_confidential_care(seed):
    mother = personal(ok(seed("RelatedPerson/rp-ines-haddad-mere").get("Patient/pat-ines-haddad/$access-list")))
    minor = personal(ok(seed("Patient/pat-ines-haddad").get("Patient/pat-ines-haddad/$access-list")))
    assert "Practitioner/pra-julie-mercier" in minor            # the midwife of her confidential care
    assert "Practitioner/pra-julie-mercier" not in mother
    assert "Practitioner/pra-antoine-lefebvre" in mother        # her MT is no secret
    mt_basis = mother["Practitioner/pra-antoine-lefebvre"]["basis"]
    assert all("contraception" not in str(b) for b in (mt_basis if isinstance(mt_basis, list) else [mt_basis]))


def test_only_the_holder_side_and_systems(seed):
    for who in ("Practitioner/pra-antoine-lefebvre", "Patient/pat-claire-martin", "RelatedPerson/rp-robert-vidal-fille"):
        assert_forbidden(seed(who).get("Patient/pat-robert-vidal/$access-list"))
    assert ok(seed.system.get("Patient/pat-robert-vidal/$access-list"))["resourceType"] == "Parameters"
    assert seed.system.get("Patient/pat-nobody/$access-list").status_code == 404
    assert seed("Patient/pat-robert-vidal").post("Patient/pat-robert-vidal/$access-list",
                                                 {"resourceType": "Parameters"}).status_code == 200
