"""Bad input: always a 4xx OperationOutcome naming the problem, never a 500, nothing stored."""

import pytest

from tests.factories import patient


def _outcome(r, status):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"]
    return body["issue"]


def test_malformed_json_is_400(system, client):
    r = client.post("/fhir/Patient", content=b'{"resourceType": "Patient",', headers=system.headers())
    _outcome(r, 400)


def test_wrong_resource_type_is_400_naming_resource_type(system):
    issues = _outcome(system.post("Patient", {"resourceType": "Observation", "status": "final",
                                              "code": {"text": "x"}}), 400)
    assert issues[0]["expression"] == ["resourceType"]


def test_unknown_element_is_422_with_path(system):
    issues = _outcome(system.post("Patient", {**patient(), "favouriteColour": "blue"}), 422)
    assert any("Patient.favouriteColour" in i.get("expression", []) for i in issues)


def test_bad_date_is_422_with_path(system):
    issues = _outcome(system.post("Patient", {**patient(), "birthDate": "1979-13-45"}), 422)
    assert any(i.get("expression") == ["Patient.birthDate"] for i in issues)


def test_bad_required_code_is_422(system):
    issues = _outcome(system.post("Patient", {**patient(), "gender": "xx"}), 422)
    assert any(i.get("expression") == ["Patient.gender"] for i in issues)


def test_unknown_resource_type_is_404(system):
    _outcome(system.get("Spaceship/1"), 404)


def test_invalid_id_is_400(system):
    _outcome(system.get("Patient/" + "x" * 65), 400)


def test_method_not_allowed_is_405(system):
    _outcome(system.request("DELETE", "Patient/1/_history/1"), 405)


@pytest.mark.parametrize("method,path", [("OPTIONS", "/fhir/Patient"), ("TRACE", "/fhir"), ("OPTIONS", "/fhir/metadata")])
def test_a_method_fhir_does_not_serve_is_405_before_the_token(client, method, path):
    _outcome(client.request(method, path), 405)


@pytest.mark.parametrize("method,path,status", [("GET", "/fhir/metadata", 200),
                                                ("POST", "/fhir/metadata", 401), ("GET", "/fhir", 401),
                                                ("GET", "/fhir/", 401), ("GET", "/fhirx", 404)])
def test_the_fhir_front_sends_only_fhir_interactions_to_the_dispatcher(client, method, path, status):
    assert client.request(method, path).status_code == status


def test_audit_event_is_read_only(system):
    body = {"resourceType": "AuditEvent"}
    _outcome(system.post("AuditEvent", body), 405)
    _outcome(system.put("AuditEvent/a", {**body, "id": "a"}), 405)
    _outcome(system.delete("AuditEvent/a"), 405)


def test_non_fhir_body_is_415(system, client):
    r = client.post("/fhir/Patient", content=b"name: Martin",
                    headers={**system.headers(), "Content-Type": "text/yaml"})
    _outcome(r, 415)


def test_unknown_format_is_406(system):
    _outcome(system.get("Patient?_format=turtle"), 406)


def test_empty_body_is_400(system, client):
    _outcome(client.post("/fhir/Patient", content=b"", headers=system.headers()), 400)


@pytest.mark.parametrize("body", [[], "text", 5, None, {"resourceType": 5}, {"resourceType": "Patient", "name": 7},
                                  {"resourceType": "Patient", "name": [{"given": "not-a-list"}]},
                                  {"resourceType": "Patient", "birthDate": None},
                                  {"resourceType": "Patient", "identifier": [{"value": {"nested": True}}]}])
def test_odd_bodies_never_500(system, body):
    r = system.post("Patient", body)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["resourceType"] == "OperationOutcome"
    assert system.get("Patient").json()["total"] == 0


def test_invalid_if_match_is_400(system):
    created = system.post("Patient", patient()).json()
    _outcome(system.put(f"Patient/{created['id']}", created, headers={"If-Match": "garbage"}), 400)
