"""ENS secure messaging: conversations are started by professionals; the holder (or a legal representative) may
reply within a conversation (Communication.inResponseTo) but not start one."""

from __future__ import annotations

import pytest

from tests.access.builders import (assert_not_found, assert_forbidden, birth_date, care_team, communication, ok, patient,
                                   practitioner, put, related_person, search_ids)

P, MINOR = "pat-msg", "pat-msg-minor"
GP = "Practitioner/pra-gp"


@pytest.fixture
def record(actors):
    s = actors.system
    put(s, practitioner("pra-gp"))
    put(s, patient(P, gps=("pra-gp",)))
    put(s, patient(MINOR, birth=birth_date(7), gps=("pra-gp",)))
    put(s, related_person("rp-msg", MINOR))
    put(s, communication("com-start", P, GP))
    put(s, communication("com-start-minor", MINOR, GP))
    return actors


def _new(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "id"}


def test_professional_starts_a_conversation(record):
    ok(record(GP).post("Communication", _new(communication("x", P, GP))), 201)


def test_holder_replies_within_a_conversation(record):
    reply = communication("x", P, f"Patient/{P}", in_response_to="Communication/com-start")
    created = ok(record(f"Patient/{P}").post("Communication", _new(reply)), 201)
    assert created["id"] in search_ids(record(GP), f"Communication?subject=Patient/{P}")[0]


def test_holder_cannot_start_a_conversation(record):
    r = record(f"Patient/{P}").post("Communication", _new(communication("x", P, f"Patient/{P}")))
    assert_forbidden(r, "inResponseTo")
    assert search_ids(record.system, f"Communication?subject=Patient/{P}")[0] == {"com-start"}


def test_legal_representative_replies_but_does_not_start(record):
    rep = record("RelatedPerson/rp-msg")
    ok(rep.post("Communication", _new(communication("x", MINOR, "RelatedPerson/rp-msg",
                                                    in_response_to="Communication/com-start-minor"))), 201)
    assert_forbidden(rep.post("Communication", _new(communication("x", MINOR, "RelatedPerson/rp-msg"))))


def test_holder_cannot_turn_a_reply_into_a_new_conversation_by_update(record):
    holder = record(f"Patient/{P}")
    reply = ok(holder.post("Communication", _new(communication("x", P, f"Patient/{P}",
                                                               in_response_to="Communication/com-start"))), 201)
    reply.pop("meta")
    reply.pop("inResponseTo")
    r = holder.put(f"Communication/{reply['id']}", reply)
    assert r.status_code == 403, r.text


def test_holder_cannot_write_messages_on_another_record(record):
    put(record.system, patient("pat-msg-other"))
    put(record.system, communication("com-other", "pat-msg-other", GP))
    r = record(f"Patient/{P}").post("Communication", _new(communication(
        "x", "pat-msg-other", f"Patient/{P}", in_response_to="Communication/com-other")))
    assert_forbidden(r)


def test_unrelated_professional_cannot_read_the_messages(record):
    api = record("Practitioner/pra-stranger")
    assert_not_found(api.get("Communication/com-start"))
    assert search_ids(api, f"Communication?subject=Patient/{P}") == (set(), 0)


def test_care_team_member_reads_and_writes_messages(record):
    put(record.system, care_team("ct-msg", P, ("Practitioner/pra-nurse",)))
    api = record("Practitioner/pra-nurse")
    assert ok(api.get("Communication/com-start"), 200)
    ok(api.post("Communication", _new(communication("x", P, "Practitioner/pra-nurse"))), 201)


def test_holder_cannot_alter_a_professionals_message(record):
    holder = record(f"Patient/{P}")
    message = ok(record.system.get("Communication/com-start"))
    message.pop("meta")
    message["payload"] = [{"contentString": "texte changé par le patient"}]
    assert holder.put("Communication/com-start", message).status_code == 403
    stored = ok(record.system.get("Communication/com-start"))
    assert stored["meta"]["versionId"] == "1" and stored["payload"][0]["contentString"] == "Message fictif"


def test_holder_cannot_delete_a_professionals_message(record):
    assert record(f"Patient/{P}").delete("Communication/com-start").status_code == 403
    assert ok(record.system.get("Communication/com-start"))["meta"]["versionId"] == "1"


def test_holder_cannot_reply_to_a_conversation_that_does_not_exist(record):
    r = record(f"Patient/{P}").post("Communication", _new(communication(
        "x", P, f"Patient/{P}", in_response_to="Communication/does-not-exist")))
    assert r.status_code in (400, 403, 404, 422), r.text
