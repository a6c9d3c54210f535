"""Patient/$access-status (issue 12, item 2; DMP TD0.2): what a professional may learn before opening a record."""

from __future__ import annotations

import pytest

from tests.access.builders import assert_forbidden, flat, ok, patient

INS = "urn:oid:1.2.250.1.213.1.4.10"
ROBERT_INS = "136127127005840"


def status_of(api, path: str, method: str = "GET", body: dict | None = None) -> dict:
    response = api.get(path) if method == "GET" else api.post(path, body or {"resourceType": "Parameters"})
    out = ok(response, 200)
    assert out["resourceType"] == "Parameters"
    return out


def test_authorised_professional_by_ins_get_and_post(seed):
    pharmacist = seed("Practitioner/pra-vincent-blanc")
    by_get = flat(status_of(pharmacist, f"Patient/$access-status?identifier={INS}|{ROBERT_INS}"))
    by_post = flat(status_of(pharmacist, "Patient/$access-status", "POST", {"resourceType": "Parameters", "parameter": [
        {"name": "identifier", "valueString": f"{INS}|{ROBERT_INS}"}]}))
    by_identifier = flat(status_of(pharmacist, "Patient/$access-status", "POST", {
        "resourceType": "Parameters", "parameter": [
            {"name": "identifier", "valueIdentifier": {"system": INS, "value": ROBERT_INS}}]}))
    assert by_get == by_post == by_identifier == {
        "recordExists": True, "status": "open", "authorization": {"status": "valid", "basis": "authorised"},
        "medecinTraitant": False, "emergencyMode": ["bris_de_glace", "centre_15"],
        "patient": {"reference": "Patient/pat-robert-vidal"}}


def _period_end(seed, consent: str) -> str:
    """The seeded authorisation's end, as stored (the seed's dates move with the day it is loaded)."""
    return ok(seed.system.get(f"Consent/{consent}"))["provision"]["period"]["end"]


def test_temporary_authorisation_says_until_when_and_mt_says_so(seed):
    moreau = flat(status_of(seed("Practitioner/pra-isabelle-moreau"), "Patient/pat-david-cohen/$access-status"))
    until = _period_end(seed, "cns-david-cohen-autorisation-moreau")
    assert moreau["authorization"] == {"status": "valid", "basis": "authorised", "validUntil": until}
    mt = flat(status_of(seed("Practitioner/pra-antoine-lefebvre"), "Patient/pat-robert-vidal/$access-status"))
    assert mt["medecinTraitant"] is True and mt["authorization"] == {"status": "valid", "basis": "medecin_traitant"}


def test_expired_authorisation(seed):
    lambert = flat(status_of(seed("Practitioner/pra-olivier-lambert"), "Patient/pat-david-cohen/$access-status"))
    expired = _period_end(seed, "cns-david-cohen-autorisation-lambert-expiree")
    assert lambert["authorization"] == {"status": "expired", "expiredOn": expired, "basis": "author"}
    assert "patient" not in lambert and "medecinTraitant" not in lambert


def test_blocked_professional_learns_only_that(seed):
    girard = flat(status_of(seed("Practitioner/pra-thomas-girard"), "Patient/pat-sophie-bernard/$access-status"))
    assert girard == {"recordExists": True, "status": "open", "authorization": {"status": "blocked"}}
    # the blocked establishment's radiologist too, although personally authorised
    lambert = flat(status_of(seed("Practitioner/pra-olivier-lambert", organization="Organization/org-imagerie-bellecour"),
                             "Patient/pat-nicolas-fabre/$access-status"))
    assert lambert == girard


def test_unauthorised_professional_learns_the_emergency_modes_only(seed):
    outsider = seed("Practitioner/pra-yann-le-gall")
    assert flat(status_of(outsider, "Patient/pat-michel-fournier/$access-status")) == {
        "recordExists": True, "status": "open", "authorization": {"status": "none"}, "emergencyMode": "centre_15"}
    # ... and a real read is still refused
    assert_forbidden(outsider.get("Patient/pat-michel-fournier"))


def test_closed_record_and_unknown_ins(seed):
    garnier = flat(status_of(seed("Practitioner/pra-helene-garnier"), "Patient/pat-monique-renard/$access-status"))
    stored = ok(seed.system.get("Patient/pat-monique-renard"))
    closure = next(part["valueDateTime"] for ext in stored["extension"] if ext["url"].endswith("/dmp-status")
                   for part in ext["extension"] if part["url"] == "closureDate")
    assert garnier["status"] == "closed" and garnier["closureDate"] == closure
    assert "emergencyMode" not in garnier
    other = flat(status_of(seed("Practitioner/pra-yann-le-gall"), "Patient/pat-monique-renard/$access-status"))
    assert other == {"recordExists": True, "status": "closed", "authorization": {"status": "none"}}
    unknown = flat(status_of(seed("Practitioner/pra-yann-le-gall"), f"Patient/$access-status?identifier={INS}|199999999999999"))
    assert unknown == {"recordExists": False}
    assert flat(status_of(seed("Practitioner/pra-yann-le-gall"), "Patient/pat-nobody/$access-status")) == {"recordExists": False}


def test_not_yet_open_record_gives_its_opening_date(fresh_seed):
    new = {k: v for k, v in patient("pat-new-ens").items() if k != "id"}     # no dmp-status: a new ENS
    pid = ok(fresh_seed.system.post("Patient", new), 201)["id"]
    out = flat(status_of(fresh_seed("Practitioner/pra-yann-le-gall"), f"Patient/{pid}/$access-status"))
    assert out["status"] == "not-yet-open" and out["openingDate"] and "emergencyMode" not in out


@pytest.mark.parametrize("who", ["Patient/pat-robert-vidal", "RelatedPerson/rp-leo-martin-mere"])
def test_only_professionals_and_systems_ask(seed, who):
    assert_forbidden(seed(who).get("Patient/pat-robert-vidal/$access-status"), "professionals")


@pytest.mark.parametrize("identifier", ["136127127005840", "http://other|1", f"{INS}|"])
def test_bad_identifier_is_400(seed, identifier):
    response = seed("Practitioner/pra-yann-le-gall").get(f"Patient/$access-status?identifier={identifier}")
    assert response.status_code == 400 and response.json()["issue"][0]["expression"] == ["identifier"]
    assert seed("Practitioner/pra-yann-le-gall").get("Patient/$access-status").status_code == 400


def test_trusted_system_and_trace(fresh_seed):
    system = flat(status_of(fresh_seed.system, "Patient/pat-monique-renard/$access-status"))
    assert system["authorization"] == {"status": "valid", "basis": "system"} and "closureDate" in system
    status_of(fresh_seed("Practitioner/pra-thomas-girard"), "Patient/pat-sophie-bernard/$access-status")
    traces = ok(fresh_seed("Patient/pat-sophie-bernard").get(
        "AuditEvent?patient=Patient/pat-sophie-bernard&agent=Practitioner/pra-thomas-girard"))
    assert any("access-status" in str(e["resource"]) for e in traces.get("entry", []))
