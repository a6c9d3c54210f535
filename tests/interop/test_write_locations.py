"""Every write names what it wrote, also when it answers 200, so that HAPI's `MethodOutcome.getId()` is set
(issue 11, item 6): Location and Content-Location carry the versioned URL."""

from __future__ import annotations

from tests.factories import patient

BASE = "http://testserver/fhir"


def _names(response, pid: str, version: int) -> None:
    expected = f"{BASE}/Patient/{pid}/_history/{version}"
    assert response.headers["Content-Location"] == expected
    assert response.headers["Location"] == expected
    assert response.headers["ETag"] == f'W/"{version}"'


def test_create_update_patch_carry_locations(system):
    created = system.post("Patient", patient())
    pid = created.json()["id"]
    assert created.status_code == 201
    _names(created, pid, 1)
    body = {**created.json(), "gender": "male"}
    updated = system.put(f"Patient/{pid}", body)
    assert updated.status_code == 200 and updated.json()["gender"] == "male"
    _names(updated, pid, 2)
    patched = system.patch(f"Patient/{pid}", [{"op": "replace", "path": "/gender", "value": "female"}],
                           headers={"Content-Type": "application/json-patch+json"})
    assert patched.status_code == 200, patched.text
    _names(patched, pid, 3)


def test_conditional_update_and_matched_conditional_create_carry_locations(system):
    first = system.post("Patient", patient(ins="279035121518989"))
    pid = first.json()["id"]
    again = system.post("Patient", patient(ins="279035121518989"),
                        headers={"If-None-Exist": "identifier=urn:oid:1.2.250.1.213.1.4.10|279035121518989"})
    assert again.status_code == 200 and again.json()["id"] == pid
    _names(again, pid, 1)
    body = {**patient(ins="279035121518989"), "gender": "other"}
    conditional = system.put("Patient?identifier=urn:oid:1.2.250.1.213.1.4.10|279035121518989", body)
    assert conditional.status_code == 200 and conditional.json()["id"] == pid
    _names(conditional, pid, 2)
    assert system.get(f"Patient/{pid}").json()["gender"] == "other"


def test_minimal_write_still_names_the_version_and_read_has_content_location_only(system):
    pid = system.post("Patient", patient()).json()["id"]
    minimal = system.put(f"Patient/{pid}", {**patient(), "id": pid, "gender": "male"},
                         headers={"Prefer": "return=minimal"})
    assert minimal.status_code == 200 and minimal.content == b""
    _names(minimal, pid, 2)
    read = system.get(f"Patient/{pid}")
    assert read.headers["Content-Location"] == f"{BASE}/Patient/{pid}/_history/2"
    assert "Location" not in read.headers
    refused = system.put(f"Patient/{pid}", {**patient(), "id": "other"})
    assert refused.status_code == 400 and "Content-Location" not in refused.headers
