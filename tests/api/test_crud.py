"""create, read, vread, update, update-as-create, delete: statuses, headers and what is stored."""

from email.utils import parsedate_to_datetime

from tests.factories import patient


def test_create_assigns_id_version_and_headers(system):
    r = system.post("Patient", patient())
    assert r.status_code == 201
    body = r.json()
    assert body["resourceType"] == "Patient" and body["id"]
    assert body["meta"]["versionId"] == "1"
    assert r.headers["ETag"] == 'W/"1"'
    assert r.headers["Location"] == f"http://testserver/fhir/Patient/{body['id']}/_history/1"
    assert r.headers["Content-Type"].startswith("application/fhir+json")
    assert parsedate_to_datetime(r.headers["Last-Modified"]).year >= 2026


def test_create_ignores_client_id(system):
    r = system.post("Patient", {**patient(), "id": "chosen-by-client"})
    assert r.status_code == 201 and r.json()["id"] != "chosen-by-client"


def test_read_returns_stored_resource(system):
    created = system.post("Patient", patient(family="Lefèvre")).json()
    r = system.get(f"Patient/{created['id']}")
    assert r.status_code == 200
    assert r.json() == created
    assert r.headers["ETag"] == 'W/"1"'


def test_read_unknown_is_404_operation_outcome(system):
    r = system.get("Patient/does-not-exist")
    assert r.status_code == 404
    assert r.json()["resourceType"] == "OperationOutcome"
    assert r.json()["issue"][0]["code"] == "not-found"


def test_update_makes_new_version_and_vread_keeps_old(system):
    created = system.post("Patient", patient()).json()
    pid = created["id"]
    changed = {**created, "birthDate": "1980-01-01"}
    r = system.put(f"Patient/{pid}", changed)
    assert r.status_code == 200
    assert r.json()["meta"]["versionId"] == "2" and r.headers["ETag"] == 'W/"2"'
    assert system.get(f"Patient/{pid}/_history/1").json()["birthDate"] == "1979-03-12"
    assert system.get(f"Patient/{pid}/_history/2").json()["birthDate"] == "1980-01-01"
    assert system.get(f"Patient/{pid}/_history/3").status_code == 404


def test_update_with_same_content_makes_no_version(system):
    created = system.post("Patient", patient()).json()
    r = system.put(f"Patient/{created['id']}", created)
    assert r.status_code == 200 and r.json()["meta"]["versionId"] == "1"


def test_update_as_create_with_client_id(system):
    r = system.put("Patient/pat-claire", {**patient(), "id": "pat-claire"})
    assert r.status_code == 201
    assert r.headers["Location"].endswith("/Patient/pat-claire/_history/1")
    assert system.get("Patient/pat-claire").json()["id"] == "pat-claire"


def test_update_id_mismatch_is_400_naming_id(system):
    r = system.put("Patient/a", {**patient(), "id": "b"})
    assert r.status_code == 400
    assert r.json()["issue"][0]["expression"] == ["Patient.id"]
    assert system.get("Patient/a").status_code == 404


def test_update_without_body_id_is_400(system):
    r = system.put("Patient/a", patient())
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Patient.id"]


def test_if_match_stale_version_is_412_and_nothing_stored(system):
    created = system.post("Patient", patient()).json()
    pid = created["id"]
    assert system.put(f"Patient/{pid}", {**created, "gender": "male"}, headers={"If-Match": 'W/"1"'}).status_code == 200
    r = system.put(f"Patient/{pid}", {**created, "gender": "other"}, headers={"If-Match": 'W/"1"'})
    assert r.status_code == 412
    assert r.json()["resourceType"] == "OperationOutcome"
    assert system.get(f"Patient/{pid}").json()["gender"] == "male"


def test_delete_then_read_is_410_and_old_versions_remain(system):
    pid = system.post("Patient", patient()).json()["id"]
    r = system.delete(f"Patient/{pid}")
    assert r.status_code == 200
    assert r.headers["ETag"] == 'W/"2"'
    gone = system.get(f"Patient/{pid}")
    assert gone.status_code == 410 and gone.json()["issue"][0]["code"] == "deleted"
    assert system.get(f"Patient/{pid}/_history/1").status_code == 200
    assert system.get(f"Patient/{pid}/_history/2").status_code == 410
    # deleting again changes nothing
    assert system.delete(f"Patient/{pid}").status_code == 200
    assert system.get(f"Patient/{pid}/_history").json()["total"] == 2


def test_update_after_delete_revives_resource(system):
    created = system.post("Patient", patient()).json()
    system.delete(f"Patient/{created['id']}")
    r = system.put(f"Patient/{created['id']}", created)
    assert r.status_code == 201 and r.json()["meta"]["versionId"] == "3"


def test_delete_unknown_is_404(system):
    assert system.delete("Patient/never-existed").status_code == 404


def test_prefer_return_minimal_and_operation_outcome(system):
    r = system.post("Patient", patient(), headers={"Prefer": "return=minimal"})
    assert r.status_code == 201 and r.content == b"" and r.headers["Location"]
    r = system.post("Patient", patient(), headers={"Prefer": "return=OperationOutcome"})
    assert r.status_code == 201 and r.json()["resourceType"] == "OperationOutcome"
    r = system.post("Patient", patient(), headers={"Prefer": "return=representation"})
    assert r.json()["resourceType"] == "Patient"


def test_stored_document_keeps_server_fields_out_of_responses(system, store):
    pid = system.post("Patient", patient()).json()["id"]
    body = system.get(f"Patient/{pid}").json()
    assert "_idx" not in body and "_acl" not in body
    doc = store.read_doc("Patient", pid)
    assert doc["v"] == 1 and doc["res"]["id"] == pid and "_idx" in doc
