"""Conditional create (If-None-Exist), conditional update and delete."""

from tests.factories import INS_NIR_TEST, patient

BY_INS = f"identifier={INS_NIR_TEST}|279035121518989"


def test_conditional_create_creates_once_then_returns_existing(system):
    first = system.post("Patient", patient(), headers={"If-None-Exist": BY_INS})
    assert first.status_code == 201
    again = system.post("Patient", patient(), headers={"If-None-Exist": BY_INS})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert system.get(f"Patient?{BY_INS}").json()["total"] == 1


def test_conditional_create_with_several_matches_is_412(system):
    system.post("Patient", patient())
    system.post("Patient", patient())
    r = system.post("Patient", patient(), headers={"If-None-Exist": BY_INS})
    assert r.status_code == 412


def test_conditional_create_accepts_type_prefixed_query(system):
    first = system.post("Patient", patient(), headers={"If-None-Exist": f"Patient?{BY_INS}"})
    again = system.post("Patient", patient(), headers={"If-None-Exist": f"Patient?{BY_INS}"})
    assert (first.status_code, again.status_code) == (201, 200)


def test_conditional_create_after_match_deleted_creates_again(system):
    first = system.post("Patient", patient(), headers={"If-None-Exist": BY_INS}).json()
    system.delete(f"Patient/{first['id']}")
    again = system.post("Patient", patient(), headers={"If-None-Exist": BY_INS})
    assert again.status_code == 201 and again.json()["id"] != first["id"]


def test_conditional_update_updates_the_single_match(system):
    pid = system.post("Patient", patient()).json()["id"]
    r = system.put(f"Patient?{BY_INS}", {**patient(), "gender": "male"})
    assert r.status_code == 200 and r.json()["id"] == pid and r.json()["gender"] == "male"


def test_conditional_update_without_match_creates(system):
    r = system.put(f"Patient?{BY_INS}", patient())
    assert r.status_code == 201


def test_conditional_update_with_several_matches_is_412(system):
    system.post("Patient", patient())
    system.post("Patient", patient())
    assert system.put(f"Patient?{BY_INS}", patient()).status_code == 412


def test_conditional_delete(system):
    pid = system.post("Patient", patient()).json()["id"]
    assert system.delete(f"Patient?{BY_INS}").status_code == 200
    assert system.get(f"Patient/{pid}").status_code == 410
    # no match: nothing to do
    assert system.delete(f"Patient?{BY_INS}").status_code == 200


def test_conditional_delete_with_several_matches_is_412(system):
    system.post("Patient", patient())
    system.post("Patient", patient())
    assert system.delete(f"Patient?{BY_INS}").status_code == 412
