"""PATCH with JSON Patch and FHIRPath Patch, If-Match, and bad patches that store nothing."""

import base64
import json

from tests.factories import patient

JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def _new(system):
    return system.post("Patient", patient()).json()["id"]


def test_json_patch_changes_and_versions(system):
    pid = _new(system)
    r = system.patch(f"Patient/{pid}", [{"op": "replace", "path": "/gender", "value": "male"}], headers=JSON_PATCH)
    assert r.status_code == 200
    assert r.json()["gender"] == "male" and r.json()["meta"]["versionId"] == "2"


def test_fhirpath_patch_changes_and_versions(system):
    pid = _new(system)
    params = {"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.birthDate"},
        {"name": "value", "valueDate": "1990-05-05"}]}]}
    r = system.patch(f"Patient/{pid}", params)
    assert r.status_code == 200 and r.json()["birthDate"] == "1990-05-05"


def test_patch_with_stale_if_match_is_412(system):
    pid = _new(system)
    op = [{"op": "replace", "path": "/gender", "value": "male"}]
    assert system.patch(f"Patient/{pid}", op, headers={**JSON_PATCH, "If-Match": 'W/"1"'}).status_code == 200
    r = system.patch(f"Patient/{pid}", op, headers={**JSON_PATCH, "If-Match": 'W/"1"'})
    assert r.status_code == 412


def test_patch_producing_invalid_resource_is_rejected_and_stores_nothing(system):
    pid = _new(system)
    r = system.patch(f"Patient/{pid}", [{"op": "replace", "path": "/birthDate", "value": "not-a-date"}],
                     headers=JSON_PATCH)
    assert r.status_code in (400, 422)
    assert "Patient.birthDate" in r.json()["issue"][0].get("expression", [])
    assert system.get(f"Patient/{pid}").json()["meta"]["versionId"] == "1"


def test_failed_json_patch_test_op_is_422(system):
    pid = _new(system)
    r = system.patch(f"Patient/{pid}", [{"op": "test", "path": "/gender", "value": "male"}], headers=JSON_PATCH)
    assert r.status_code == 422


def test_patch_of_unknown_resource_is_404(system):
    r = system.patch("Patient/nope", [{"op": "replace", "path": "/gender", "value": "male"}], headers=JSON_PATCH)
    assert r.status_code == 404


def test_patch_in_transaction_with_binary_json_patch(system):
    pid = _new(system)
    data = base64.b64encode(json.dumps([{"op": "replace", "path": "/gender", "value": "other"}]).encode()).decode()
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [{
        "resource": {"resourceType": "Binary", "contentType": "application/json-patch+json", "data": data},
        "request": {"method": "PATCH", "url": f"Patient/{pid}"}}]}
    r = system.post("", bundle)
    assert r.status_code == 200, r.text
    assert system.get(f"Patient/{pid}").json()["gender"] == "other"
