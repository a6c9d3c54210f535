"""$validate: every issue in one OperationOutcome, modes create/update/delete, profile parameter."""

from tests.factories import document_reference, patient

VISIBILITY = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"


def _issues(r):
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    return [i for i in body["issue"] if i["severity"] == "error"]


def test_valid_resource_has_no_error(system):
    issues = _issues(system.post("Patient/$validate", patient()))
    assert issues == []


def test_every_issue_is_reported_with_its_path(system):
    bad = {**patient(), "gender": "xx", "birthDate": "1979-13-40"}
    paths = {e for i in _issues(system.post("Patient/$validate", bad)) for e in i.get("expression", [])}
    assert {"Patient.gender", "Patient.birthDate"} <= paths


def test_profile_issues_are_reported(system):
    doc = document_reference("Patient/p1", "Practitioner/a",
                             securityLabel=[{"coding": [{"system": VISIBILITY, "code": "SECRET"}]}])
    del doc["subject"]
    paths = {e for i in _issues(system.post("DocumentReference/$validate", doc)) for e in i.get("expression", [])}
    assert "DocumentReference.subject" in paths
    assert any(p.startswith("DocumentReference.securityLabel[0]") for p in paths)


def test_parameters_form_with_mode_and_profile(system):
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": {**patient(), "id": "other"}},
        {"name": "mode", "valueCode": "update"},
        {"name": "profile", "valueUri": "https://dmp-fhir-server.example/fhir/StructureDefinition/DmpPatient"}]}
    issues = _issues(system.post("Patient/p1/$validate", params))
    assert [i["expression"] for i in issues] == [["Patient.id"]]


def test_unknown_profile_or_mode_is_400(system):
    params = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": patient()},
                                                          {"name": "profile", "valueUri": "http://x/y"}]}
    assert system.post("Patient/$validate", params).status_code == 400
    assert system.post("Patient/$validate?mode=merge", patient()).status_code == 400


def test_validate_stores_nothing(system, store):
    system.post("Patient/$validate", patient())
    assert store.count("Patient", {}) == 0


def test_delete_mode_reports_what_the_policy_would_refuse(system, as_actor):
    pid = system.post("Patient", patient()).json()["id"]
    author = "Practitioner/author-1"
    system.put(f"Patient/{pid}", {**patient(), "id": pid, "generalPractitioner": [{"reference": author}]})
    doc_id = system.post("DocumentReference", document_reference(f"Patient/{pid}", author)).json()["id"]
    assert _issues(as_actor(author).post(f"DocumentReference/{doc_id}/$validate?mode=delete")) == []
    refused = _issues(as_actor(f"Patient/{pid}").post(f"DocumentReference/{doc_id}/$validate?mode=delete"))
    assert "only" in refused[0]["diagnostics"] or "cannot" in refused[0]["diagnostics"]
    assert system.get(f"DocumentReference/{doc_id}").status_code == 200
