"""Communications written by the server: after an emergency access, and 14 days into a hidden document."""

import time
from datetime import timedelta

from jose import jwt

from fhir_server.services.notifications import notify_hidden_documents
from fhir_server.storage.mongo import now_ms
from tests.conftest import TEST_SECRET, Api
from tests.factories import document_reference, patient

GP = "Practitioner/gp-notice"
EMERGENCY = "Practitioner/urgentiste"
VISIBILITY = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"


def _notices(store, pid):
    return [d["res"] for d in store.find("Communication", {"_acl.patients": pid, "res.sender.reference":
                                                            "Device/dmp-fhir-server"})]


def test_emergency_access_notifies_holder_and_medecin_traitant_once_a_day(system, as_actor, store):
    pid = system.post("Patient", patient(generalPractitioner=[{"reference": GP}])).json()["id"]
    doctor = as_actor(EMERGENCY, mode="bris_de_glace", reason="patient inconscient")
    assert doctor.get(f"Patient/{pid}").status_code == 200
    assert doctor.get(f"DocumentReference?patient=Patient/{pid}").status_code == 200
    notices = _notices(store, pid)
    assert len(notices) == 1
    notice = notices[0]
    assert {r["reference"] for r in notice["recipient"]} == {f"Patient/{pid}", GP}
    text = notice["payload"][0]["contentString"]
    assert "bris_de_glace" in text and EMERGENCY in text and "patient inconscient" in text
    # the holder reads it in their record
    mine = as_actor(f"Patient/{pid}").get(f"Communication?subject=Patient/{pid}").json()
    assert [e["resource"]["id"] for e in mine["entry"]] == [notice["id"]]


def test_normal_access_and_refused_emergency_write_no_notice(system, as_actor, store, client):
    pid = system.post("Patient", patient(generalPractitioner=[{"reference": GP}])).json()["id"]
    as_actor(GP).get(f"Patient/{pid}")
    claims = {"sub": EMERGENCY, "scope": "user/*.cruds", "purpose_of_use": "bris_de_glace",
              "exp": int(time.time()) + 60}
    no_reason = Api(client, jwt.encode(claims, TEST_SECRET, algorithm="HS256"))
    r = no_reason.get(f"Patient/{pid}")
    assert r.status_code == 403 and "reason" in r.json()["issue"][0]["diagnostics"]
    assert _notices(store, pid) == []


def test_document_hidden_for_14_days_notifies_holder_without_naming_it(app, system, store, settings):
    pid = system.post("Patient", patient(generalPractitioner=[{"reference": GP}])).json()["id"]
    dated = (now_ms() - timedelta(days=15)).isoformat()
    doc = document_reference(f"Patient/{pid}", GP, date=dated,
                             securityLabel=[{"coding": [{"system": VISIBILITY, "code": "INVISIBLE_PATIENT"}]}])
    doc_id = system.post("DocumentReference", doc).json()["id"]
    fresh = document_reference(f"Patient/{pid}", GP,
                               securityLabel=[{"coding": [{"system": VISIBILITY, "code": "INVISIBLE_PATIENT"}]}])
    system.post("DocumentReference", fresh)
    assert notify_hidden_documents(store, settings, now_ms()) == 1
    assert notify_hidden_documents(store, settings, now_ms()) == 0
    notices = _notices(store, pid)
    assert len(notices) == 1
    assert notices[0]["recipient"] == [{"reference": f"Patient/{pid}"}]
    assert doc_id not in str(notices[0]) and "consulter un professionnel" in notices[0]["payload"][0]["contentString"]
