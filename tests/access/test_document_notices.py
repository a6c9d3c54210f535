"""Notices to the holder of new documents (issue 12, item 5), as Mon espace santé sends them."""

from __future__ import annotations

from datetime import timedelta

from fhir_server.services.notifications import notify_lapsed_documents
from fhir_server.storage.mongo import now_ms
from tests.access.builders import (INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX, days, document, ok, params,
                                   search_ids)

ROBERT, INES = "pat-robert-vidal", "pat-ines-haddad"
MT = "Practitioner/pra-antoine-lefebvre"


def notices(api, patient: str) -> list[dict]:
    bundle = ok(api.get(f"Communication?subject=Patient/{patient}&category=notification&_count=100"))
    return [e["resource"] for e in bundle.get("entry") or [] if e["resource"].get("about")]


def about(messages: list[dict]) -> list[str]:
    return [m["about"][0]["reference"] for m in messages]


def _new(patient: str, author: str, labels=()) -> dict:
    doc = document("x", patient, (author,), labels=labels, date=days(0))
    doc.pop("id")
    return doc


def test_a_professional_adds_a_document_the_holder_is_told_once(fresh_seed):
    created = ok(fresh_seed(MT).post("DocumentReference", _new(ROBERT, MT)), 201)
    holder = fresh_seed(f"Patient/{ROBERT}")
    (notice,) = [m for m in notices(holder, ROBERT) if m["about"][0]["reference"] == f"DocumentReference/{created['id']}"]
    assert notice["recipient"] == [{"reference": f"Patient/{ROBERT}"}] and notice["sender"]["reference"] == "Device/dmp-fhir-server"
    assert "nouveau document" in notice["payload"][0]["contentString"]
    # a metadata update does not notify again
    ok(fresh_seed(MT).patch(f"DocumentReference/{created['id']}", [{"op": "replace", "path": "/status", "value": "current"}],
                            headers={"Content-Type": "application/json-patch+json"}), 200)
    assert about(notices(holder, ROBERT)).count(f"DocumentReference/{created['id']}") == 1


def test_no_notice_for_the_holders_own_deposit_nor_seeded_documents(fresh_seed):
    holder = fresh_seed(f"Patient/{ROBERT}")
    deposit = document("x", ROBERT, (f"Patient/{ROBERT}",), date=days(0))
    deposit.pop("id")
    deposit["category"] = [{"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/"
                                                  "TRE-A03-ClasseDocument", "code": "90"}]}]
    ok(holder.post("DocumentReference", deposit), 201)
    assert notices(holder, ROBERT) == []


def test_hidden_document_notifies_only_once_revealed(fresh_seed):
    author = "Practitioner/pra-anne-collin"
    holder = fresh_seed("Patient/pat-philippe-morel")
    hidden = ok(fresh_seed(author).post("DocumentReference", _new("pat-philippe-morel", author, (INVISIBLE_PATIENT,))), 201)
    assert f"DocumentReference/{hidden['id']}" not in about(notices(fresh_seed.system, "pat-philippe-morel"))
    ok(fresh_seed(author).post(f"DocumentReference/{hidden['id']}/$reveal-to-patient", params()), 200)
    assert about(notices(holder, "pat-philippe-morel")).count(f"DocumentReference/{hidden['id']}") == 1


def test_a_lapsed_month_notifies_through_the_job(fresh_seed):
    """The seeded RCP report (hidden from 2026-11-18) becomes visible after its month: the job tells the holder once."""
    store, settings = fresh_seed.app.state.store, fresh_seed.app.state.settings
    later = now_ms() + timedelta(days=400)
    assert notify_lapsed_documents(store, settings, later) >= 1
    assert notify_lapsed_documents(store, settings, later) == 0
    assert "DocumentReference/doc-philippe-morel-cr-rcp-2026-11" in about(notices(fresh_seed.system, "pat-philippe-morel"))


def test_a_minors_secret_never_notifies_the_legal_representatives(fresh_seed):
    midwife = "Practitioner/pra-julie-mercier"
    ok(fresh_seed(f"Patient/{INES}").post(f"Patient/{INES}/$authorize", params(actor={"reference": midwife})), 200, 201)
    secret = ok(fresh_seed(midwife).post("DocumentReference", _new(INES, midwife, (INVISIBLE_REPRESENTANTS_LEGAUX,))), 201)
    plain = ok(fresh_seed(midwife).post("DocumentReference", _new(INES, midwife)), 201)
    minor = about(notices(fresh_seed(f"Patient/{INES}"), INES))
    assert f"DocumentReference/{secret['id']}" in minor and f"DocumentReference/{plain['id']}" in minor
    mother = fresh_seed("RelatedPerson/rp-ines-haddad-mere")
    seen = about(notices(mother, INES))
    assert f"DocumentReference/{plain['id']}" in seen and f"DocumentReference/{secret['id']}" not in seen
    everything = ok(mother.get(f"Patient/{INES}/$everything"))
    assert secret["id"] not in str(everything)
    assert search_ids(mother, f"Communication?subject=Patient/{INES}")[1] == len(
        search_ids(mother, f"Communication?subject=Patient/{INES}")[0])
