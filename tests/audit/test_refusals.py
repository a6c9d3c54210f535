"""Refusals are traced too (rule 11: "read, search, write, denial"), as IHE BALP AuthZconsent events in the
patient's chain; a request without an actor (401) writes nothing."""

from __future__ import annotations

import pytest

from fhir_server.audit.writer import COLLECTION, verify

from .data import weight
from .traces import (CLIENT_HOST, chain, is_refusal, only_trace, patients, profile, request_id, requestor,
                     resources, send, stored_traces, traces)

CLAIRE = "pat-claire-martin"
MASKED = "DocumentReference/doc-claire-martin-cr-consultation-gynecologie-2026-05"


def in_record(store, rid: str) -> dict:
    """The trace of the request in the record's chain. A 404 for a hidden resource also leaves the actor's own
    view of it (issue 10): a trace with no patient, as an absent id leaves, which the agent alone reads."""
    found = stored_traces(store, rid)
    record = [d for d in found if d["_acl"]["patients"]]
    assert len(record) == 1, found
    for twin in (d for d in found if not d["_acl"]["patients"]):
        assert twin["_acl"]["agent"] == record[0]["_acl"]["agent"] and record[0]["_acl"].get("agent_hidden")
    return record[0]


def assert_refusal_in_chain(store, rid: str, actor: str, patient_id: str) -> dict:
    doc = in_record(store, rid)
    event = doc["res"]
    assert is_refusal(event), (profile(event), event["type"], event["outcome"])
    assert requestor(event)["who"] == {"reference": actor}
    assert requestor(event)["network"]["address"] == CLIENT_HOST
    assert patients(event) == [f"Patient/{patient_id}"]
    assert request_id(event) == rid
    assert doc["_chain"]["key"] == patient_id
    return event


@pytest.mark.parametrize("actor, patient_id", [
    ("Practitioner/pra-yann-le-gall", CLAIRE),                  # no link to the patient
    ("Practitioner/pra-thomas-girard", "pat-sophie-bernard"),   # blocked by the holder
    ("Practitioner/pra-olivier-lambert", "pat-nicolas-fabre"),  # his establishment is blocked
    ("Practitioner/pra-helene-garnier", "pat-monique-renard"),  # closed record
    ("RelatedPerson/rp-hugo-petitjean-mere", "pat-hugo-petitjean"),  # representation ended at 18
], ids=["unauthorised", "blocked", "blocked-establishment", "closed-record", "ended-representation"])
def test_forbidden_read_is_traced_as_authz_refusal_in_the_patients_chain(seeded, as_actor, actor, patient_id):
    organization = "Organization/org-imagerie-bellecour" if "lambert" in actor else None
    response, rid = send(as_actor(actor, organization=organization), "GET", f"Patient/{patient_id}")
    assert response.status_code == 403
    event = assert_refusal_in_chain(seeded, rid, actor, patient_id)
    assert event["action"] == "R"
    assert event["outcomeDesc"].startswith("403")


def test_refused_break_glass_is_traced_with_its_mode(seeded, as_actor):
    """Michel Fournier objected to break-glass access: the refusal still says it was an emergency attempt."""
    actor = "Practitioner/pra-emilie-roux"
    response, rid = send(as_actor(actor, mode="bris_de_glace", reason="arrêt cardiaque"), "GET",
                         "Patient/pat-michel-fournier")
    assert response.status_code == 403
    event = assert_refusal_in_chain(seeded, rid, actor, "pat-michel-fournier")
    purpose = requestor(event)["purposeOfUse"][0]
    assert {c["code"] for c in purpose["coding"]} >= {"bris_de_glace", "BTG"}
    assert purpose["text"] == "arrêt cardiaque"


def test_refused_centre_15_is_traced_with_its_mode(seeded, as_actor):
    actor = "Practitioner/pra-francois-chevalier"      # Jacqueline Perrin objected to centre 15 access
    response, rid = send(as_actor(actor, mode="centre_15"), "GET", "Patient/pat-jacqueline-perrin")
    assert response.status_code == 403
    event = assert_refusal_in_chain(seeded, rid, actor, "pat-jacqueline-perrin")
    assert "centre_15" in {c["code"] for c in requestor(event)["purposeOfUse"][0]["coding"]}


def test_forbidden_everything_is_traced_as_refusal(seeded, as_actor):
    actor = "Practitioner/pra-yann-le-gall"
    response, rid = send(as_actor(actor), "GET", f"Patient/{CLAIRE}/$everything")
    assert response.status_code == 403
    assert assert_refusal_in_chain(seeded, rid, actor, CLAIRE)["subtype"][0]["code"] == "everything"


def test_refused_create_is_traced_and_nothing_is_stored(seeded, as_actor):
    actor = "Practitioner/pra-yann-le-gall"
    before = seeded.count("Observation", {})
    response, rid = send(as_actor(actor), "POST", "Observation", weight(CLAIRE))
    assert response.status_code == 403
    event = assert_refusal_in_chain(seeded, rid, actor, CLAIRE)
    assert event["action"] == "C"
    assert seeded.count("Observation", {}) == before


def test_refused_mask_by_a_professional_is_traced(seeded, as_actor):
    actor = "Practitioner/pra-antoine-lefebvre"     # the MT may read, not mask
    response, rid = send(as_actor(actor), "POST", "DocumentReference/doc-claire-martin-cr-consultation-2026-09/$mask",
                         {"resourceType": "Parameters"})
    assert response.status_code == 403
    assert assert_refusal_in_chain(seeded, rid, actor, CLAIRE)["subtype"][0]["code"] == "mask"


def test_masked_document_404_is_traced_as_authz_refusal(seeded, as_actor):
    actor = "Practitioner/pra-olivier-lambert"      # authorised on Claire Martin, not on her masked document
    response, rid = send(as_actor(actor), "GET", MASKED)
    assert response.status_code == 404
    assert response.json()["issue"][0]["code"] == "not-found"
    event = assert_refusal_in_chain(seeded, rid, actor, CLAIRE)
    assert resources(event) == [MASKED]


def test_masked_document_404_is_at_least_traced_as_failed_in_the_patients_chain(seeded, as_actor):
    response, rid = send(as_actor("Practitioner/pra-olivier-lambert"), "GET", MASKED)
    assert response.status_code == 404
    doc = in_record(seeded, rid)
    assert doc["res"]["outcome"] == "4"
    assert doc["_chain"]["key"] == CLAIRE


def test_404_for_a_resource_that_does_not_exist_is_not_a_refusal(seeded, as_actor):
    response, rid = send(as_actor("Practitioner/pra-antoine-lefebvre"), "GET", "Patient/pat-nobody")
    assert response.status_code == 404
    event = only_trace(seeded, rid)["res"]
    assert event["outcome"] == "4"
    assert not is_refusal(event)
    assert patients(event) == []


@pytest.mark.parametrize("actor, patient_id", [
    ("Practitioner/pra-thomas-girard", "pat-sophie-bernard"),
    ("Practitioner/pra-yann-le-gall", CLAIRE),
], ids=["blocked", "unauthorised"])
def test_search_emptied_by_the_policy_is_traced_in_the_patients_chain(seeded, as_actor, actor, patient_id):
    response, rid = send(as_actor(actor), "GET", f"DocumentReference?patient={patient_id}")
    assert response.status_code in (200, 403)
    doc = only_trace(seeded, rid)
    assert doc["_chain"]["key"] == patient_id
    assert patients(doc["res"]) == [f"Patient/{patient_id}"]


# -- no actor, no trace ----------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-jwt"}], ids=["no-token", "bad-token"])
def test_401_writes_no_trace(seeded, client, headers):
    before = seeded.count(COLLECTION, {})
    response = client.get(f"/fhir/Patient/{CLAIRE}", headers={"X-Request-Id": "no-actor", **headers})
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    assert seeded.count(COLLECTION, {}) == before


# -- transactions and batches ----------------------------------------------------------------------
def _two_creates(first: str, second: str) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:6b1d3f0e-0000-4000-8000-000000000001", "resource": weight(first),
         "request": {"method": "POST", "url": "Observation"}},
        {"fullUrl": "urn:uuid:6b1d3f0e-0000-4000-8000-000000000002", "resource": weight(second),
         "request": {"method": "POST", "url": "Observation"}},
    ]}


def test_refused_transaction_entry_is_traced_after_the_rollback(seeded, as_actor):
    """Moreau may write for David Cohen, not for Jean-Pierre Muller: the whole transaction rolls back,
    David Cohen's write and its trace with it, and the refusal on Jean-Pierre Muller is still traced."""
    actor = "Practitioner/pra-isabelle-moreau"
    observations = seeded.count("Observation", {})
    response, rid = send(as_actor(actor), "POST", "", _two_creates("pat-david-cohen", "pat-jean-pierre-muller"))
    assert response.status_code == 403
    assert seeded.count("Observation", {}) == observations
    event = assert_refusal_in_chain(seeded, rid, actor, "pat-jean-pierre-muller")
    assert event["action"] == "C"
    assert [d["_chain"]["key"] for d in stored_traces(seeded, rid)] == ["pat-jean-pierre-muller"]
    assert chain(seeded, "pat-david-cohen") == []
    assert verify(seeded)[1] == []


def test_chain_continues_cleanly_after_a_rolled_back_transaction(seeded, as_actor):
    api = as_actor("Practitioner/pra-isabelle-moreau")
    send(api, "GET", "Patient/pat-david-cohen")
    send(api, "POST", "", _two_creates("pat-david-cohen", "pat-jean-pierre-muller"))
    response, rid = send(api, "GET", "Patient/pat-david-cohen")
    assert response.status_code == 200
    assert [d["_chain"]["seq"] for d in chain(seeded, "pat-david-cohen")] == [1, 2]
    assert verify(seeded)[1] == []


def test_batch_traces_each_entry_refused_or_not(seeded, as_actor):
    actor = "Practitioner/pra-isabelle-moreau"
    bundle = {**_two_creates("pat-david-cohen", "pat-jean-pierre-muller"), "type": "batch"}
    response, rid = send(as_actor(actor), "POST", "", bundle)
    assert response.status_code == 200
    assert [e["response"]["status"][:3] for e in response.json()["entry"]] == ["201", "403"]
    by_patient = {d["_chain"]["key"]: d["res"] for d in stored_traces(seeded, rid)}
    assert profile(by_patient["pat-david-cohen"]) == "PatientCreate"
    assert is_refusal(by_patient["pat-jean-pierre-muller"])
    assert len(traces(seeded, rid)) == 2
