"""Actors: a legal representative (RelatedPerson, parent/guardian relationship) acts on a minor's record; the
representation ends at majority (birthDate and the age_of_majority setting) or when the link is inactive or its
period is over; an adult's trusted person is not a legal representative; a representative sees nothing of
other patients."""

from __future__ import annotations

import pytest

from tests.access.builders import (assert_not_found, assert_forbidden, birth_date, days, document, ids_of, ok, params, patient, put,
                                   related_person, search_ids)


def _represents(api, pid: str) -> None:
    assert ok(api.get(f"Patient/{pid}"), 200)
    found, total = search_ids(api, f"DocumentReference?patient={pid}")
    assert found and total == len(found)
    assert ok(api.get(f"Patient/{pid}/$everything"), 200)


def _refused(api, pid: str, *, represents_nobody: bool = True) -> None:
    assert_forbidden(api.get(f"Patient/{pid}"))
    assert_forbidden(api.get(f"Patient/{pid}/$everything"))
    assert search_ids(api, f"DocumentReference?patient={pid}") == (set(), 0)
    found, total = search_ids(api, "DocumentReference")
    assert not any(pid.removeprefix("pat-") in i for i in found)
    if represents_nobody:
        assert (found, total) == (set(), 0)
    assert search_ids(api, f"Patient?_id={pid}&_revinclude=DocumentReference:subject") == (set(), 0)


@pytest.mark.parametrize("rep,pid", [("rp-leo-martin-mere", "pat-leo-martin"), ("rp-leo-martin-pere", "pat-leo-martin"),
                                     ("rp-emma-caron-tutrice", "pat-emma-caron"),
                                     ("rp-jade-moulin-mere", "pat-jade-moulin")])
def test_legal_representative_of_a_minor_sees_the_record(seed, rep, pid):
    _represents(seed(f"RelatedPerson/{rep}"), pid)


def test_legal_representative_sees_nothing_of_another_patient(seed):
    mother = seed("RelatedPerson/rp-leo-martin-mere")
    _refused(mother, "pat-emma-caron", represents_nobody=False)
    # acting for Léo, the mother (also a patient herself) does not reach her own record through this identity
    assert_forbidden(mother.get("Patient/pat-claire-martin"))


def test_legal_representative_of_a_now_adult_patient_is_refused(seed):
    _refused(seed("RelatedPerson/rp-hugo-petitjean-mere"), "pat-hugo-petitjean")


def test_trusted_person_of_an_adult_is_not_a_legal_representative(seed):
    _refused(seed("RelatedPerson/rp-robert-vidal-fille"), "pat-robert-vidal")


# -- the age of majority, computed at query time -------------------------------------------------------
@pytest.fixture
def family(actors):
    s = actors.system
    put(s, patient("pat-turned-18", birth=birth_date(18)))                 # 18 today
    put(s, patient("pat-18-tomorrow", birth=birth_date(18, extra_days=-1)))  # 18 tomorrow
    put(s, patient("pat-child", birth=birth_date(9)))
    for pid in ("pat-turned-18", "pat-18-tomorrow", "pat-child"):
        put(s, document(f"doc-{pid}", pid, ("Practitioner/pra-x",)))
    # links still active, no end date: only the birth date decides
    put(s, related_person("rp-turned-18", "pat-turned-18"))
    put(s, related_person("rp-18-tomorrow", "pat-18-tomorrow", code="FTH"))
    put(s, related_person("rp-inactive", "pat-child", active=False))
    put(s, related_person("rp-ended", "pat-child", end=days(-1)[:10]))
    put(s, related_person("rp-aunt", "pat-child", code="AUNT"))
    put(s, related_person("rp-guardian", "pat-child", code="GUARD"))
    return actors


def test_representation_ends_on_the_18th_birthday(family):
    _refused(family("RelatedPerson/rp-turned-18"), "pat-turned-18")


def test_representation_holds_the_day_before_the_18th_birthday(family):
    _represents(family("RelatedPerson/rp-18-tomorrow"), "pat-18-tomorrow")


def test_inactive_or_ended_representation_is_refused(family):
    _refused(family("RelatedPerson/rp-inactive"), "pat-child")
    _refused(family("RelatedPerson/rp-ended"), "pat-child")


def test_relative_without_a_legal_relationship_is_refused(family):
    _refused(family("RelatedPerson/rp-aunt"), "pat-child")


def test_guardian_represents_the_child(family):
    _represents(family("RelatedPerson/rp-guardian"), "pat-child")


def test_legal_representative_masks_and_opposes_for_the_minor(family):
    rep = family("RelatedPerson/rp-guardian")
    ok(rep.post("DocumentReference/doc-pat-child/$mask", params()), 200)
    assert "doc-pat-child" in ids_of(ok(rep.get("DocumentReference?patient=pat-child")))
    ok(rep.post("Patient/pat-child/$oppose", params(actor={"reference": "Practitioner/pra-x"})), 200, 201)
    assert_not_found(family("Practitioner/pra-x").get("DocumentReference/doc-pat-child"))


def test_former_representative_cannot_act_on_the_record(family):
    rep = family("RelatedPerson/rp-turned-18")
    assert_not_found(rep.post("DocumentReference/doc-pat-turned-18/$mask", params()))
    assert_forbidden(rep.post("Patient/pat-turned-18/$oppose", params(actor={"reference": "Practitioner/pra-x"})))
