"""The policy's facts kept across requests (access/memo.py) never outlive a change: a block, a withdrawn
authorisation, a care team that ends, a revoked PractitionerRole or a rolled-back write takes effect on the
very next request, exactly as if every request read the store again; a store that cannot count its changes
keeps nothing."""

from __future__ import annotations

import pytest

from fhir_server.access import memo
from tests.access.builders import (assert_forbidden, assert_not_found, care_team, deny, document, ok, organization,
                                   patient, permit, practitioner, practitioner_role, put)

P = "pat-memo"
DOC = "doc-memo"
PRA = "Practitioner/pra-memo"


@pytest.fixture
def record(actors):
    s = actors.system
    for pra in ("pra-memo", "pra-memo-author"):
        put(s, practitioner(pra))
    put(s, organization("org-memo"))
    put(s, patient(P))
    put(s, document(DOC, P, ("Practitioner/pra-memo-author",)))
    return actors


def _reads(api) -> None:
    assert ok(api.get(f"Patient/{P}"))["id"] == P
    assert ok(api.get(f"DocumentReference/{DOC}"))["id"] == DOC


def _refused(api) -> None:
    assert_forbidden(api.get(f"Patient/{P}"))
    assert_not_found(api.get(f"DocumentReference/{DOC}"))


def test_a_block_written_after_reads_refuses_the_next_read(record):
    put(record.system, permit("cns-memo-permit", P, PRA))
    pra = record(PRA)
    _reads(pra)
    _reads(pra)                              # the facts are now remembered
    put(record.system, deny("cns-memo-deny", P, PRA))
    _refused(pra)


def test_a_withdrawn_authorisation_refuses_the_next_read(record):
    consent = permit("cns-memo-permit", P, PRA)
    put(record.system, consent)
    pra = record(PRA)
    _reads(pra)
    put(record.system, {**consent, "status": "inactive"})
    _refused(pra)
    put(record.system, consent)              # and given again, read again
    _reads(pra)


def test_a_care_team_that_ends_refuses_the_next_read(record):
    put(record.system, care_team("ct-memo", P, (PRA,)))
    pra = record(PRA)
    _reads(pra)
    put(record.system, care_team("ct-memo", P, (PRA,), status="inactive"))
    _refused(pra)


def test_a_revoked_practitioner_role_no_longer_lets_its_organisation_in(record):
    put(record.system, practitioner_role("role-memo", "pra-memo", "org-memo"))
    put(record.system, care_team("ct-memo-org", P, ("Organization/org-memo",)))
    pra = record(PRA, organization="Organization/org-memo")
    _reads(pra)
    put(record.system, practitioner_role("role-memo", "pra-memo", "org-memo", active=False))
    _refused(pra)


def test_a_rolled_back_authorisation_lets_nobody_in(record):
    pra = record(PRA)
    _refused(pra)                            # remembered: no authorisation
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": permit("cns-memo-rolled-back", P, PRA), "request": {"method": "PUT",
                                                                         "url": "Consent/cns-memo-rolled-back"}},
        {"resource": {"resourceType": "Patient", "birthDate": "not a date"}, "request": {"method": "POST",
                                                                                          "url": "Patient"}}]}
    assert record.system.post("", bundle).status_code >= 400
    assert record.system.get("Consent/cns-memo-rolled-back").status_code == 404
    _refused(pra)


def test_facts_are_read_again_only_when_their_collections_change(record, monkeypatch):
    """On the embedded store (which counts its changes); on a database server every request reads them."""
    from fhir_server.storage.mongo import MongoStore
    counted = record.app.state.store.versions(("Consent",)) is not None
    put(record.system, permit("cns-memo-permit", P, PRA))
    pra = record(PRA)
    _reads(pra)
    asked = []
    plain = MongoStore.find
    monkeypatch.setattr(MongoStore, "find", lambda self, coll, *a, **k: asked.append(coll) or plain(self, coll, *a, **k))
    _reads(pra)
    assert bool({"Consent", "CareTeam", "PractitionerRole"} & set(asked)) is not counted
    put(record.system, {"resourceType": "Observation", "id": "obs-memo", "status": "final", "code": {"text": "x"},
                        "subject": {"reference": f"Patient/{P}"}})
    asked.clear()
    _reads(pra)                              # an Observation changes none of the facts' collections
    assert ("Consent" in asked) is not counted
    put(record.system, deny("cns-memo-deny-other", P, "Practitioner/someone-else"))
    asked.clear()
    _reads(pra)
    assert "Consent" in asked


class _Server:
    """A store on a database server: it cannot count the changes other processes make."""
    embedded = False

    def versions(self, collections):
        return None


def test_a_store_that_cannot_count_its_changes_keeps_nothing():
    loads = []
    for _ in range(3):
        memo.recalled(_Server(), "facts", ["p1"], ("Consent",), lambda keys: loads.append(keys) or {"p1": "facts"})
    assert loads == [["p1"]] * 3


def _counting_store(record):
    store = record.app.state.store
    if store.versions(("Consent",)) is None:
        pytest.skip("a database server: nothing is kept (test_a_store_that_cannot_count_its_changes_keeps_nothing)")
    return store


def test_the_memo_is_bounded(record, monkeypatch):
    monkeypatch.setattr(memo, "MAX_ENTRIES", 5)
    store = _counting_store(record)
    for i in range(20):
        assert memo.recalled(store, "test", [f"k{i}"], ("Consent",), lambda keys: {k: k.upper() for k in keys}) \
            == {f"k{i}": f"K{i}"}
    assert len(memo._entries(store, "test", store.versions(("Consent",)))) <= 5


def test_a_change_drops_what_was_read_before_it(record):
    store = _counting_store(record)
    memo.recalled(store, "test", ["k"], ("Consent",), lambda keys: {"k": "before"})
    put(record.system, deny("cns-memo-deny-other", P, "Practitioner/someone-else"))
    assert memo.recalled(store, "test", ["k"], ("Consent",), lambda keys: {"k": "after"}) == {"k": "after"}
    assert memo._memos[store]["test"][1] == {"k": "after"}


def test_a_patient_read_before_a_change_is_not_what_the_facts_keep(record):
    """The médecin traitant removed between the read of the Patient and the decision: the facts are the record as it
    is now, for this request and for the next (policy.know_patient keeps the count it read at)."""
    from fhir_server.access.policy import Policy
    from fhir_server.auth.actor import Actor
    from tests.access.builders import now
    store = record.app.state.store
    put(record.system, patient(P, gps=("pra-memo",)))
    policy = Policy(store, Actor(reference=PRA), now(), 18)
    policy.know_patient(store.read_doc("Patient", P, index=False))
    put(record.system, patient(P))                 # no médecin traitant any more
    # where nothing is kept (a server), the request decides on the Patient it read, the one it answers with
    counted = store.versions(("Patient",)) is not None
    assert (PRA not in policy.facts(P).medecins_traitants) is counted
    later = Policy(store, Actor(reference=PRA), now(), 18)
    assert PRA not in later.facts(P).medecins_traitants
    _refused(record(PRA))
