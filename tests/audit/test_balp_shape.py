"""One AuditEvent per interaction and per patient touched, shaped as IHE BALP says (issue 5, "Deliver" 1).

https://profiles.ihe.net/ITI/BALP/: PatientRead, PatientQuery, PatientCreate, PatientUpdate, PatientDelete."""

from __future__ import annotations

import pytest

from .. import factories
from .data import weight
from .traces import (ACT_REASON, CLIENT_HOST, TRE_R248, bundle_refs, codings, only_trace, other_agents, patients,
                     profile, queries, request_id, requestor, resources, send, stored_traces, traces)

LEFEBVRE = "Practitioner/pra-antoine-lefebvre"          # MT of Claire Martin and Gérard Bonnet
MOREAU = "Practitioner/pra-isabelle-moreau"             # authorised on David Cohen
ROUX = "Practitioner/pra-emilie-roux"                   # emergency physician
CLAIRE = "pat-claire-martin"
DAVID = "pat-david-cohen"
MSP = "Organization/org-msp-croix-rousse"


def assert_names_the_request(event: dict, actor: str, patient_id: str, rid: str, outcome: str = "0") -> None:
    """What every trace carries: actor, client IP, access mode, patient, outcome, request id."""
    agent = requestor(event)
    assert agent["who"] == {"reference": actor}
    assert agent["network"]["address"] == CLIENT_HOST
    assert (TRE_R248, "normal") in codings(agent["purposeOfUse"])
    assert patients(event) == [f"Patient/{patient_id}"]
    assert event["outcome"] == outcome
    assert request_id(event) == rid


# -- reads ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path, subtype", [
    ("Patient/pat-claire-martin", "read"),
    ("Patient/pat-claire-martin/_history/1", "vread"),
    ("Patient/pat-claire-martin/_history", "history-instance"),
])
def test_read_vread_and_history_are_traced_as_patient_read(seeded, as_actor, path, subtype):
    response, rid = send(as_actor(LEFEBVRE), "GET", path)
    assert response.status_code == 200
    doc = only_trace(seeded, rid)
    event = doc["res"]
    assert profile(event) == "PatientRead"
    assert event["type"]["code"] == "rest"
    assert event["subtype"] == [{"system": "http://hl7.org/fhir/restful-interaction", "code": subtype}]
    assert event["action"] == "R"
    assert_names_the_request(event, LEFEBVRE, CLAIRE, rid)
    assert resources(event) == [f"Patient/{CLAIRE}"]
    assert doc["_chain"]["key"] == CLAIRE


def test_read_of_a_document_names_the_document_and_its_patient(seeded, as_actor):
    response, rid = send(as_actor(LEFEBVRE), "GET", "DocumentReference/doc-claire-martin-cr-consultation-2026-09")
    assert response.status_code == 200
    event = only_trace(seeded, rid)["res"]
    assert patients(event) == [f"Patient/{CLAIRE}"]
    assert resources(event) == ["DocumentReference/doc-claire-martin-cr-consultation-2026-09"]


def test_history_instance_trace_has_no_misleading_query(seeded, as_actor):
    response, rid = send(as_actor(LEFEBVRE), "GET", f"Patient/{CLAIRE}/_history")
    assert response.status_code == 200
    event = only_trace(seeded, rid)["res"]
    assert all(CLAIRE in q for q in queries(event)), queries(event)


# -- who, for whom, from where, why ------------------------------------------------------------------
def test_trace_names_the_organization_the_token_acts_for(seeded, as_actor):
    response, rid = send(as_actor(LEFEBVRE, organization=MSP), "GET", f"Patient/{CLAIRE}")
    assert response.status_code == 200
    event = only_trace(seeded, rid)["res"]
    assert requestor(event)["who"] == {"reference": LEFEBVRE}
    assert MSP in other_agents(event)


def test_trace_names_no_organization_when_the_token_has_none(seeded, as_actor):
    response, rid = send(as_actor(LEFEBVRE), "GET", f"Patient/{CLAIRE}")
    event = only_trace(seeded, rid)["res"]
    assert not [a for a in other_agents(event) if a.startswith("Organization/")]


def test_break_glass_is_traced_with_btg_and_the_reason(seeded, as_actor):
    reason = "patient inconscient aux urgences, pronostic vital engagé"
    api = as_actor(ROUX, mode="bris_de_glace", reason=reason)
    response, rid = send(api, "GET", "Patient/pat-gerard-bonnet")
    assert response.status_code == 200
    event = only_trace(seeded, rid)["res"]
    (purpose,) = requestor(event)["purposeOfUse"]
    assert {(TRE_R248, "bris_de_glace"), (ACT_REASON, "ETREAT"), (ACT_REASON, "BTG")} <= codings([purpose])
    assert purpose["text"] == reason
    assert patients(event) == ["Patient/pat-gerard-bonnet"]


def test_centre_15_is_traced_with_its_access_mode_and_no_btg(seeded, as_actor):
    api = as_actor("Practitioner/pra-francois-chevalier", mode="centre_15")
    response, rid = send(api, "GET", "Patient/pat-gerard-bonnet")
    assert response.status_code == 200
    event = only_trace(seeded, rid)["res"]
    found = codings(requestor(event)["purposeOfUse"])
    assert (TRE_R248, "centre_15") in found
    assert (ACT_REASON, "BTG") not in found and (ACT_REASON, "ETREAT") in found


def test_server_chosen_request_id_is_the_one_in_the_response_header(seeded, as_actor):
    api = as_actor(LEFEBVRE)
    response = api.get(f"Patient/{CLAIRE}")
    rid = response.headers["X-Request-Id"]
    assert rid
    assert only_trace(seeded, rid)["res"]["outcome"] == "0"


# -- searches --------------------------------------------------------------------------------------
def test_search_is_traced_as_patient_query_with_its_query_and_what_it_returned(seeded, as_actor):
    response, rid = send(as_actor(LEFEBVRE), "GET", f"DocumentReference?patient={CLAIRE}&_count=2")
    assert response.status_code == 200
    returned = bundle_refs(response.json())
    assert len(returned) == 2 and response.json()["total"] > 2     # some matches left unreturned
    event = only_trace(seeded, rid)["res"]
    assert profile(event) == "PatientQuery"
    assert event["action"] == "E"
    assert event["subtype"][0]["code"] == "search-type"
    assert_names_the_request(event, LEFEBVRE, CLAIRE, rid)
    (query,) = queries(event)
    assert query.startswith("DocumentReference?") and f"patient={CLAIRE}" in query and "_count=2" in query
    assert set(resources(event)) == returned


def test_search_trace_does_not_name_resources_hidden_from_the_searcher(seeded, as_actor):
    """Lambert (authorised) searches Claire Martin's documents: the masked one is neither returned nor traced."""
    masked = "DocumentReference/doc-claire-martin-cr-consultation-gynecologie-2026-05"
    response, rid = send(as_actor("Practitioner/pra-olivier-lambert"), "GET", f"DocumentReference?patient={CLAIRE}")
    assert response.status_code == 200
    returned = bundle_refs(response.json())
    assert returned and masked not in returned
    event = only_trace(seeded, rid)["res"]
    assert set(resources(event)) == returned


def test_next_page_is_traced_with_the_resources_of_that_page(seeded, as_actor):
    api = as_actor(LEFEBVRE)
    first, rid1 = send(api, "GET", f"DocumentReference?patient={CLAIRE}&_count=1")
    nxt = next(l["url"] for l in first.json()["link"] if l["relation"] == "next")
    second, rid2 = send(api, "GET", nxt.replace("http://testserver/fhir/", ""))
    assert second.status_code == 200
    page1, page2 = bundle_refs(first.json()), bundle_refs(second.json())
    assert page1 and page2 and not page1 & page2
    assert set(resources(only_trace(seeded, rid1)["res"])) == page1
    assert set(resources(only_trace(seeded, rid2)["res"])) == page2


def test_search_touching_several_patients_writes_one_trace_per_patient(seeded, as_actor):
    response, rid = send(as_actor(LEFEBVRE), "GET", f"Patient?general-practitioner={LEFEBVRE}")
    assert response.status_code == 200
    returned = bundle_refs(response.json())
    assert len(returned) == 7
    docs = stored_traces(seeded, rid)
    assert len(docs) == len(returned)
    for doc in docs:
        event = doc["res"]
        (patient,) = patients(event)
        assert resources(event) == [patient]                 # nothing of another patient in this chain
        assert doc["_chain"]["key"] == patient.split("/")[1]
        assert profile(event) == "PatientQuery"
    assert {patients(d["res"])[0] for d in docs} == returned


def test_included_resources_are_traced_as_returned(seeded, as_actor):
    response, rid = send(as_actor(LEFEBVRE), "GET", "DocumentReference?_id=doc-claire-martin-cr-consultation-2026-09"
                                                    "&_include=DocumentReference:subject")
    assert response.status_code == 200
    returned = bundle_refs(response.json())
    assert returned == {"DocumentReference/doc-claire-martin-cr-consultation-2026-09", f"Patient/{CLAIRE}"}
    named = {ref for event in traces(seeded, rid) for ref in resources(event)}
    assert named == returned


# -- writes ----------------------------------------------------------------------------------------
def test_create_update_patch_delete_are_traced_with_their_pattern(seeded, as_actor):
    api = as_actor(MOREAU)
    created, rid = send(api, "POST", "Observation", weight(DAVID))
    assert created.status_code == 201
    ref = f"Observation/{created.json()['id']}"
    steps = [(rid, "PatientCreate", "C", "create")]

    body = {**created.json(), "valueQuantity": {**created.json()["valueQuantity"], "value": 81}}
    updated, rid = send(api, "PUT", ref, body)
    assert updated.status_code == 200
    steps.append((rid, "PatientUpdate", "U", "update"))

    patched, rid = send(api, "PATCH", ref, [{"op": "replace", "path": "/status", "value": "amended"}],
                        headers={"Content-Type": "application/json-patch+json"})
    assert patched.status_code == 200
    steps.append((rid, "PatientUpdate", "U", "patch"))

    deleted, rid = send(api, "DELETE", ref)
    assert deleted.status_code in (200, 204)
    steps.append((rid, "PatientDelete", "D", "delete"))

    for rid, pattern, action, subtype in steps:
        doc = only_trace(seeded, rid)
        event = doc["res"]
        assert (profile(event), event["action"], event["subtype"][0]["code"]) == (pattern, action, subtype)
        assert_names_the_request(event, MOREAU, DAVID, rid)
        assert resources(event) == [ref]
        assert doc["_chain"]["key"] == DAVID


def test_create_of_a_patient_is_traced_in_the_new_patients_chain(seeded, system):
    response, rid = send(system, "POST", "Patient", factories.patient())
    assert response.status_code == 201
    pid = response.json()["id"]
    doc = only_trace(seeded, rid)
    assert profile(doc["res"]) == "PatientCreate" and doc["res"]["action"] == "C"
    assert patients(doc["res"]) == [f"Patient/{pid}"]
    assert doc["_chain"]["key"] == pid and doc["_chain"]["seq"] == 1


def test_transaction_entries_are_each_traced(seeded, as_actor):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0d3c9b36-0000-4000-8000-000000000001", "resource": weight(DAVID, 80),
         "request": {"method": "POST", "url": "Observation"}},
        {"fullUrl": "urn:uuid:0d3c9b36-0000-4000-8000-000000000002", "resource": weight(DAVID, 81),
         "request": {"method": "POST", "url": "Observation"}},
    ]}
    response, rid = send(as_actor(MOREAU), "POST", "", bundle)
    assert response.status_code == 200
    created = {e["response"]["location"].split("/_history")[0].split("fhir/")[-1] for e in response.json()["entry"]}
    found = traces(seeded, rid)
    assert len(found) == 2
    assert {profile(e) for e in found} == {"PatientCreate"}
    assert {r for e in found for r in resources(e)} == created


# -- operations ------------------------------------------------------------------------------------
def test_mask_operation_is_traced(seeded, as_actor):
    doc_ref = "DocumentReference/doc-claire-martin-cr-consultation-2026-09"
    response, rid = send(as_actor(f"Patient/{CLAIRE}"), "POST", f"{doc_ref}/$mask", {"resourceType": "Parameters"})
    assert response.status_code == 200
    event = only_trace(seeded, rid)["res"]
    assert event["subtype"][0]["code"] == "mask"
    assert event["action"] == "E"
    assert profile(event) == "PatientUpdate"
    assert_names_the_request(event, f"Patient/{CLAIRE}", CLAIRE, rid)
    assert resources(event) == [doc_ref]


def test_everything_is_traced_with_every_resource_it_returned(seeded, as_actor):
    response, rid = send(as_actor(LEFEBVRE), "GET", "Patient/pat-gerard-bonnet/$everything")
    assert response.status_code == 200
    returned = bundle_refs(response.json())
    assert "DocumentReference/doc-gerard-bonnet-synthese-2026-09" in returned
    event = only_trace(seeded, rid)["res"]
    assert event["subtype"][0]["code"] == "everything"
    assert_names_the_request(event, LEFEBVRE, "pat-gerard-bonnet", rid)
    assert set(resources(event)) == returned


def test_everything_is_traced_as_a_read_not_an_update(seeded, as_actor):
    response, rid = send(as_actor(LEFEBVRE), "GET", "Patient/pat-gerard-bonnet/$everything")
    assert response.status_code == 200
    assert profile(only_trace(seeded, rid)["res"]) in ("PatientRead", "PatientQuery")
