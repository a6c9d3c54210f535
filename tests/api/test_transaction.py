"""batch and transaction Bundles: urn:uuid rewriting, conditional references, all-or-nothing."""

from tests.factories import INS_NIR_TEST, document_reference, patient, practitioner


def _entry(resource, method="POST", url=None, full_url=None, **request):
    entry = {"resource": resource, "request": {"method": method, "url": url or resource["resourceType"], **request}}
    if full_url:
        entry["fullUrl"] = full_url
    return entry


def _tx(*entries, kind="transaction"):
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def test_transaction_rewrites_urn_uuid_references(system):
    bundle = _tx(
        _entry(document_reference("urn:uuid:11111111-1111-1111-1111-111111111111",
                                  author="urn:uuid:22222222-2222-2222-2222-222222222222")),
        _entry(patient(), full_url="urn:uuid:11111111-1111-1111-1111-111111111111"),
        _entry(practitioner(), full_url="urn:uuid:22222222-2222-2222-2222-222222222222"),
    )
    r = system.post("", bundle)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["type"] == "transaction-response"
    assert [e["response"]["status"] for e in out["entry"]] == ["201 Created"] * 3
    doc_loc, pat_loc, prac_loc = (e["response"]["location"] for e in out["entry"])
    pat_id = pat_loc.split("/Patient/")[1].split("/")[0]
    prac_id = prac_loc.split("/Practitioner/")[1].split("/")[0]
    doc = system.get(doc_loc.split("/fhir/")[1].split("/_history")[0]).json()
    assert doc["subject"]["reference"] == f"Patient/{pat_id}"
    assert doc["author"][0]["reference"] == f"Practitioner/{prac_id}"


def test_transaction_resolves_conditional_reference(system):
    pid = system.post("Patient", patient()).json()["id"]
    ref = f"Patient?identifier={INS_NIR_TEST}|279035121518989"
    r = system.post("", _tx(_entry(document_reference(ref))))
    assert r.status_code == 200, r.text
    loc = r.json()["entry"][0]["response"]["location"]
    doc = system.get(loc.split("/fhir/")[1].split("/_history")[0]).json()
    assert doc["subject"]["reference"] == f"Patient/{pid}"


def test_transaction_conditional_create_reuses_existing(system):
    pid = system.post("Patient", patient()).json()["id"]
    cond = f"identifier={INS_NIR_TEST}|279035121518989"
    r = system.post("", _tx(
        _entry(patient(), full_url="urn:uuid:33333333-3333-3333-3333-333333333333", ifNoneExist=cond),
        _entry(document_reference("urn:uuid:33333333-3333-3333-3333-333333333333"))))
    assert r.status_code == 200, r.text
    statuses = [e["response"]["status"] for e in r.json()["entry"]]
    assert statuses == ["200 OK", "201 Created"]
    assert system.get(f"Patient?{cond}").json()["total"] == 1
    loc = r.json()["entry"][1]["response"]["location"]
    assert system.get(loc.split("/fhir/")[1].split("/_history")[0]).json()["subject"]["reference"] == f"Patient/{pid}"


def test_transaction_fifth_of_six_failing_stores_nothing(system, store):
    before = store.count_history({})
    entries = [_entry(patient(family=f"Famille{i}")) for i in range(6)]
    entries[4] = _entry({**patient(), "birthDate": "not-a-date"})
    r = system.post("", _tx(*entries))
    assert r.status_code in (400, 422)
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    assert "entry 4" in body["issue"][0]["diagnostics"]
    assert store.count_history({}) == before
    assert system.get("Patient").json()["total"] == 0


def test_transaction_failing_update_rolls_back_earlier_writes(system):
    created = system.post("Patient", patient()).json()
    other = system.post("Patient", patient(family="Autre")).json()
    pid = created["id"]
    r = system.post("", _tx(
        _entry({**created, "gender": "male"}, "PUT", f"Patient/{pid}"),
        _entry(practitioner()),
        _entry({**other, "gender": "other"}, "PUT", f"Patient/{other['id']}", ifMatch='W/"7"')))
    assert r.status_code == 412
    assert "entry 2" in r.json()["issue"][0]["diagnostics"]
    current = system.get(f"Patient/{pid}").json()
    assert current["gender"] == "female" and current["meta"]["versionId"] == "1"
    assert system.get("Practitioner").json()["total"] == 0


def test_transaction_processes_deletes_before_creates_and_reads_last(system):
    pid = system.post("Patient", patient()).json()["id"]
    r = system.post("", _tx(
        {"request": {"method": "GET", "url": f"Patient/{pid}"}},
        _entry(practitioner()),
        {"request": {"method": "DELETE", "url": f"Patient/{pid}"}}))
    assert r.status_code == 410  # the GET runs after the DELETE
    assert system.get(f"Patient/{pid}").status_code == 200  # and the whole transaction was undone


def test_batch_entries_succeed_or_fail_independently(system):
    r = system.post("", _tx(
        _entry(patient()),
        _entry({**patient(), "gender": "xx"}),
        {"request": {"method": "GET", "url": "Patient/nope"}},
        kind="batch"))
    assert r.status_code == 200
    out = r.json()
    assert out["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in out["entry"]]
    assert statuses[0] == "201 Created" and statuses[1].startswith("4") and statuses[2] == "404"
    assert out["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert system.get("Patient").json()["total"] == 1


def test_bundle_of_wrong_type_is_400(system):
    r = system.post("", {"resourceType": "Bundle", "type": "collection"})
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Bundle.type"]


def test_transaction_entry_without_request_is_400(system):
    r = system.post("", _tx({"resource": patient()}))
    assert r.status_code == 400


def test_transaction_refuses_two_entries_on_one_resource(system):
    created = system.post("Patient", patient()).json()
    r = system.post("", _tx(_entry(created, "PUT", f"Patient/{created['id']}"),
                            {"request": {"method": "DELETE", "url": f"Patient/{created['id']}"}}))
    assert r.status_code == 400 and "more than one entry" in r.json()["issue"][0]["diagnostics"]
    assert system.get(f"Patient/{created['id']}").status_code == 200


def test_professional_provides_a_document_and_its_binary_iti65(system, as_actor):
    gp = "Practitioner/gp-iti65"
    pid = system.post("Patient", patient(generalPractitioner=[{"reference": gp}])).json()["id"]
    doc_url, bin_url = "urn:uuid:44444444-4444-4444-4444-444444444444", "urn:uuid:55555555-5555-5555-5555-555555555555"
    binary = {"resourceType": "Binary", "contentType": "text/plain", "data": "Q29tcHRlIHJlbmR1",
              "securityContext": {"reference": doc_url}}
    doc = document_reference(f"Patient/{pid}", gp)
    doc["content"][0]["attachment"]["url"] = bin_url
    r = as_actor(gp).post("", _tx(_entry(binary, full_url=bin_url), _entry(doc, full_url=doc_url)))
    assert r.status_code == 200, r.text
    bin_loc, doc_loc = (e["response"]["location"].split("/fhir/")[1].split("/_history")[0] for e in r.json()["entry"])
    stored_doc = as_actor(gp).get(doc_loc).json()
    assert stored_doc["content"][0]["attachment"]["url"] == bin_loc
    assert as_actor(gp).get(bin_loc).json()["securityContext"]["reference"] == doc_loc
    # the Binary is read under its document's rules: an unrelated professional cannot read it
    assert as_actor("Practitioner/stranger").get(bin_loc).status_code == 404   # like an absent Binary (issue 10)
