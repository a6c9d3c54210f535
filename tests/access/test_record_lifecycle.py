"""Lifecycle (R1111-36, DMP_RULES "Lifecycle", issue item 5-6): a closed record (DMP FERME) refuses every
professional (403: the record is closed to them, decisions.py), even its médecin traitant and emergency modes,
and refuses new documents; the holder can still read it. $close-dmp (reason required, kept) and
$reactivate-dmp are for the holder only; the status never changes through a plain update."""

from __future__ import annotations

import pytest

from fhir_server.access.acl import dmp_status
from tests.access.builders import (assert_not_found, assert_forbidden, birth_date, care_team, document, ids_of, ok, params, patient,
                                   permit, practitioner, put, ref, related_person, search_ids)

P, CLOSED = "pat-lc", "pat-lc-closed"
MT, TEAM = "Practitioner/pra-mt", "Practitioner/pra-team"


@pytest.fixture
def record(actors):
    s = actors.system
    for pra in ("pra-mt", "pra-team"):
        put(s, practitioner(pra))
    put(s, patient(P, gps=("pra-mt",)))
    put(s, patient(CLOSED, gps=("pra-mt",), closed=True))
    for pid in (P, CLOSED):
        put(s, care_team(f"ct-{pid}", pid, (TEAM,)))
        put(s, document(f"doc-{pid}", pid, (MT,)))
    return actors


def _closed_to(api, pid: str) -> None:
    assert_forbidden(api.get(f"Patient/{pid}"), "closed")
    assert_not_found(api.get(f"DocumentReference/doc-{pid}"))
    assert_not_found(api.get(f"DocumentReference/doc-{pid}/_history"))
    assert_forbidden(api.get(f"Patient/{pid}/$everything"))
    assert search_ids(api, f"DocumentReference?patient={pid}") == (set(), 0)
    assert search_ids(api, f"Patient?_id={pid}&_revinclude=DocumentReference:subject") == (set(), 0)


def _holder_reads(api, pid: str) -> None:
    assert ok(api.get(f"Patient/{pid}"), 200)
    assert ok(api.get(f"DocumentReference/doc-{pid}"), 200)
    assert search_ids(api, f"DocumentReference?patient={pid}")[0] == {f"doc-{pid}"}
    assert f"doc-{pid}" in ids_of(ok(api.get(f"Patient/{pid}/$everything"), 200))


@pytest.mark.parametrize("who,kw", [(MT, {}), (TEAM, {}), (TEAM, {"mode": "bris_de_glace", "reason": "urgence"}),
                                    (TEAM, {"mode": "centre_15"})])
def test_closed_record_refuses_professionals(record, who, kw):
    _closed_to(record(who, **kw), CLOSED)


def test_closed_record_refuses_new_documents(record):
    for api in (record(MT), record(f"Patient/{CLOSED}")):
        body = {k: v for k, v in document("x", CLOSED, (MT,)).items() if k != "id"}
        assert_forbidden(api.post("DocumentReference", body), "closed")
    assert search_ids(record.system, f"DocumentReference?patient={CLOSED}")[0] == {f"doc-{CLOSED}"}


def test_closed_record_refuses_new_authorisations(record):
    assert_forbidden(record("Practitioner/pra-new").post(f"Patient/{CLOSED}/$authorize", params()), "closed")
    assert_forbidden(record(f"Patient/{CLOSED}").post(f"Patient/{CLOSED}/$authorize",
                                                      params(actor=ref("Practitioner/pra-new"))), "closed")


def test_holder_can_still_read_a_closed_record(record):
    _holder_reads(record(f"Patient/{CLOSED}"), CLOSED)


def test_holder_closes_with_a_reason_then_reactivates(record):
    holder, mt = record(f"Patient/{P}"), record(MT)
    _holder_reads(mt, P)
    closed = ok(holder.post(f"Patient/{P}/$close-dmp", params(reason="je ne souhaite plus de DMP")), 200)
    status = dmp_status(closed)
    assert status["status"] == "FERME" and status["closureReason"] == "je ne souhaite plus de DMP"
    assert status.get("closureDate")
    _closed_to(mt, P)
    _closed_to(record(TEAM), P)
    _holder_reads(holder, P)
    reopened = ok(holder.post(f"Patient/{P}/$reactivate-dmp", params()), 200)
    assert dmp_status(reopened)["status"] == "ACTIF"
    _holder_reads(mt, P)


def test_close_dmp_needs_a_reason(record):
    r = record(f"Patient/{P}").post(f"Patient/{P}/$close-dmp", params())
    assert r.status_code == 400
    assert dmp_status(ok(record.system.get(f"Patient/{P}")))["status"] == "ACTIF"


def test_close_an_already_closed_record_is_400_and_reactivate_an_open_one_is_400(record):
    assert record(f"Patient/{CLOSED}").post(f"Patient/{CLOSED}/$close-dmp", params(reason="x")).status_code == 400
    assert record(f"Patient/{P}").post(f"Patient/{P}/$reactivate-dmp", params()).status_code == 400


@pytest.mark.parametrize("who", [MT, TEAM, "Patient/pat-lc-closed"])
def test_close_dmp_refused_to_others_than_the_holder(record, who):
    assert_forbidden(record(who).post(f"Patient/{P}/$close-dmp", params(reason="x")))
    assert dmp_status(ok(record.system.get(f"Patient/{P}")))["status"] == "ACTIF"


def test_legal_representative_can_neither_close_nor_reactivate(record):
    put(record.system, patient("pat-lc-minor", birth=birth_date(8)))
    put(record.system, related_person("rp-lc-minor", "pat-lc-minor"))
    rep = record("RelatedPerson/rp-lc-minor")
    assert ok(rep.get("Patient/pat-lc-minor"), 200)
    assert_forbidden(rep.post("Patient/pat-lc-minor/$close-dmp", params(reason="x")), "holder")


@pytest.mark.parametrize("who", [MT, TEAM, f"Patient/{P}"])
def test_reactivate_dmp_refused_to_others_than_the_holder(record, who):
    assert_forbidden(record(who).post(f"Patient/{CLOSED}/$reactivate-dmp", params()))
    assert dmp_status(ok(record.system.get(f"Patient/{CLOSED}")))["status"] == "FERME"


def test_holder_cannot_change_the_status_by_update(record):
    holder = record(f"Patient/{P}")
    body = patient(P, gps=("pra-mt",), closed=True)
    assert_forbidden(holder.put(f"Patient/{P}", body), "$close-dmp")
    reopen = patient(CLOSED, gps=("pra-mt",))
    assert_forbidden(record(f"Patient/{CLOSED}").put(f"Patient/{CLOSED}", reopen))
    assert dmp_status(ok(record.system.get(f"Patient/{CLOSED}")))["status"] == "FERME"


def test_authorised_professional_loses_access_when_the_record_closes(record):
    put(record.system, permit("cns-lc", P, "Practitioner/pra-auth"))
    api = record("Practitioner/pra-auth")
    assert ok(api.get(f"Patient/{P}"), 200)
    ok(record(f"Patient/{P}").post(f"Patient/{P}/$close-dmp", params(reason="x")), 200)
    _closed_to(api, P)


def test_seeded_closed_record_of_monique_renard(fresh_seed):
    garnier, holder = fresh_seed("Practitioner/pra-helene-garnier"), fresh_seed("Patient/pat-monique-renard")
    assert_forbidden(garnier.get("Patient/pat-monique-renard"), "closed")
    assert_not_found(garnier.get("DocumentReference/doc-monique-renard-cr-consultation-2026-02"))
    assert search_ids(garnier, "DocumentReference?patient=pat-monique-renard") == (set(), 0)
    assert ok(holder.get("DocumentReference/doc-monique-renard-cr-consultation-2026-02"), 200)
    ok(holder.post("Patient/pat-monique-renard/$reactivate-dmp", params()), 200)
    assert ok(garnier.get("DocumentReference/doc-monique-renard-cr-consultation-2026-02"), 200)
