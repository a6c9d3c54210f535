"""Record lifecycle: opening after six weeks, closing, reactivating, retention and purge."""

from datetime import timedelta

from fhir_server.access.decisions import OPENING_DELAY
from fhir_server.audit.writer import verify
from fhir_server.services.purge import due_records, purge
from fhir_server.storage.mongo import now_ms
from tests.factories import document_reference, patient

GP = "Practitioner/gp-lifecycle"


def _new_record(system, **extra):
    return system.post("Patient", patient(generalPractitioner=[{"reference": GP}], **extra)).json()["id"]


def test_new_record_opens_six_weeks_after_creation(system, as_actor):
    body = patient(generalPractitioner=[{"reference": GP}])
    del body["extension"]
    created = system.post("Patient", body).json()
    status = {e["url"]: e for e in created["extension"][0]["extension"]}
    assert created["extension"][0]["url"].endswith("dmp-status")
    assert status["status"]["valueCode"] == "ACTIF" and "openingDate" in status
    r = as_actor(GP).get(f"Patient/{created['id']}")
    assert r.status_code == 403 and "opens on" in r.json()["issue"][0]["diagnostics"]
    assert as_actor(f"Patient/{created['id']}").get(f"Patient/{created['id']}").status_code == 200
    assert OPENING_DELAY == timedelta(weeks=6)


def test_holder_objection_during_opening_closes_the_record(system, as_actor):
    body = patient(generalPractitioner=[{"reference": GP}])
    del body["extension"]
    pid = system.post("Patient", body).json()["id"]
    holder = as_actor(f"Patient/{pid}")
    r = holder.post(f"Patient/{pid}/$close-dmp", _params(reason="je refuse l'ouverture"))
    assert r.status_code == 200
    status = {e["url"]: e for e in r.json()["extension"][-1]["extension"]}
    assert status["status"]["valueCode"] == "FERME" and status["closureReason"]["valueString"] == "je refuse l'ouverture"


def test_closed_record_refuses_professionals_and_new_documents_holder_still_reads(system, as_actor):
    pid = _new_record(system)
    holder, gp = as_actor(f"Patient/{pid}"), as_actor(GP)
    assert gp.post("DocumentReference", document_reference(f"Patient/{pid}", GP)).status_code == 201
    assert holder.post(f"Patient/{pid}/$close-dmp", _params(reason="fin")).status_code == 200
    assert gp.get(f"Patient/{pid}").status_code == 403
    refused = gp.get(f"DocumentReference?patient=Patient/{pid}")
    assert refused.status_code == 403 and "closed" in refused.json()["issue"][0]["diagnostics"]
    assert gp.post("DocumentReference", document_reference(f"Patient/{pid}", GP)).status_code == 403
    assert holder.get(f"DocumentReference?patient=Patient/{pid}").json()["total"] == 1
    assert holder.post(f"Patient/{pid}/$close-dmp", _params(reason="encore")).status_code == 400


def test_only_the_holder_closes_and_reactivates(system, as_actor):
    pid = _new_record(system)
    r = as_actor(GP).post(f"Patient/{pid}/$close-dmp", _params(reason="non"))
    assert r.status_code == 403 and "holder" in r.json()["issue"][0]["diagnostics"]
    holder = as_actor(f"Patient/{pid}")
    assert holder.post(f"Patient/{pid}/$reactivate-dmp", _params()).status_code == 400  # not closed
    holder.post(f"Patient/{pid}/$close-dmp", _params(reason="pause"))
    assert as_actor(GP).post(f"Patient/{pid}/$reactivate-dmp", _params()).status_code == 403
    assert holder.post(f"Patient/{pid}/$reactivate-dmp", _params()).status_code == 200
    assert as_actor(GP).get(f"Patient/{pid}").status_code == 200


def test_holder_cannot_change_record_status_by_update(system, as_actor):
    pid = _new_record(system)
    holder = as_actor(f"Patient/{pid}")
    current = holder.get(f"Patient/{pid}").json()
    current["extension"] = [{"url": current["extension"][0]["url"], "extension": [{"url": "status", "valueCode": "FERME"}]}]
    r = holder.put(f"Patient/{pid}", current)
    assert r.status_code == 403 and "$close-dmp" in r.json()["issue"][0]["diagnostics"]


def test_purge_deletes_records_past_retention_and_traces_it(app, system, as_actor, store, settings):
    kept, deleted = _new_record(system), _new_record(system, name=[{"family": "Oubli"}])
    for pid in (kept, deleted):
        system.post("DocumentReference", document_reference(f"Patient/{pid}", GP))
    as_actor(f"Patient/{kept}").post(f"Patient/{kept}/$close-dmp", _params(reason="fermeture"))
    as_actor(f"Patient/{deleted}").post(f"Patient/{deleted}/$close-dmp", _params(reason="oubli", deleteData="true"))
    now = now_ms()
    assert due_records(store, now) == []
    later = now + timedelta(days=93)       # past the 3 months of a deletion request, far from 10 years
    assert due_records(store, later) == [deleted]
    purged = purge(store, settings, app.state.audit, later)
    assert purged == {deleted: 2}
    assert store.read_doc("Patient", deleted) is None and store.count_history({"id": deleted}) == 0
    assert store.find("DocumentReference", {"_acl.patients": deleted}) == []
    assert store.read_doc("Patient", kept) is not None
    traces = store.find("AuditEvent", {"_acl.patients": deleted, "res.action": "D"})
    assert traces and "retention ended" in traces[-1]["res"]["outcomeDesc"]
    assert verify(store)[1] == []
    assert due_records(store, now + timedelta(days=3653 + 1)) == [kept]


def _params(**values) -> dict:
    return {"resourceType": "Parameters",
            "parameter": [{"name": k, ("valueBoolean" if v in ("true", "false") else "valueString"):
                           (v == "true" if v in ("true", "false") else v)} for k, v in values.items()]}


def test_age_of_majority_is_a_setting(settings, tmp_path):
    """DMP_FHIR_AGE_OF_MAJORITY: a 17-year-old's parent represents them at 18, not at 17."""
    from datetime import date

    from fastapi.testclient import TestClient

    from fhir_server.main import create_app
    from tests.conftest import Api, token_for
    born = date.today().replace(year=date.today().year - 17).isoformat()
    for majority, expected in ((18, 200), (17, 403)):
        app = create_app(settings.model_copy(update={"age_of_majority": majority}))
        client = TestClient(app)
        system = Api(client, token_for(app, "Device/s", scope="system/*.cruds"))
        pid = system.post("Patient", patient(birthDate=born)).json()["id"]
        parent = {"resourceType": "RelatedPerson", "id": "rp-parent", "patient": {"reference": f"Patient/{pid}"},
                  "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                                "code": "MTH"}]}]}
        system.put("RelatedPerson/rp-parent", parent)
        r = Api(client, token_for(app, "RelatedPerson/rp-parent")).get(f"Patient/{pid}")
        assert r.status_code == expected, (majority, r.text)
