"""Rule 6 (R1111-53): a professional may make a document temporarily invisible to the holder (INVISIBLE_PATIENT)
until it is explained in a consultation; the legal representatives do not see it either (decisions.py). It
becomes visible when revealed ($reveal-to-patient) or once its month is over (evaluated at query time; the month
runs from the document's `date` for a label set at creation, decisions.py). Professionals still see it.
$hide-from-patient is for the author (or a PS of its organisation), with an optional `until` at most a month
ahead; after 14 days hidden the holder is told that the record was updated."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fhir_server.access.decisions import HIDDEN_UNTIL_URL
from fhir_server.services.notifications import notify_hidden_documents
from tests.access.builders import (INVISIBLE_PATIENT, JSON_PATCH, assert_forbidden, assert_not_found, birth_date,
                                   care_team, days, document, ids_of, label, now, ok, params, patient, practitioner, practitioner_role,
                                   put, related_person, search_ids)

P, MINOR = "pat-inv", "pat-inv-minor"
HIDDEN, OLD, PLAIN = "doc-inv-hidden", "doc-inv-month-over", "doc-inv-plain"
MINOR_HIDDEN = "doc-inv-minor-hidden"
AUTHOR, MT, TEAM, OTHER = ("Practitioner/pra-author", "Practitioner/pra-mt", "Practitioner/pra-team",
                           "Practitioner/pra-other")
CHU = "Organization/org-chu"


@pytest.fixture
def record(actors):
    s = actors.system
    for pra in ("pra-author", "pra-mt", "pra-team", "pra-other"):
        put(s, practitioner(pra))
    for pra in ("pra-author", "pra-team"):      # acting for the CHU needs a PractitionerRole (issue 10)
        put(s, practitioner_role(f"prr-{pra}", pra, CHU.split("/")[1]))
    put(s, patient(P, gps=("pra-mt",)))
    put(s, patient(MINOR, birth=birth_date(12), gps=("pra-mt",)))
    put(s, related_person("rp-inv-mother", MINOR, code="MTH"))
    put(s, care_team("ct-inv", P, (TEAM, AUTHOR), on_behalf_of=CHU))
    put(s, care_team("ct-inv-minor", MINOR, (TEAM, AUTHOR)))
    put(s, document(HIDDEN, P, (AUTHOR, CHU), labels=(INVISIBLE_PATIENT,), date=days(-3)))
    put(s, document(OLD, P, (AUTHOR, CHU), labels=(INVISIBLE_PATIENT,), date=days(-40)))
    put(s, document(PLAIN, P, (AUTHOR, CHU), date=days(-3)))
    put(s, document(MINOR_HIDDEN, MINOR, (AUTHOR,), labels=(INVISIBLE_PATIENT,), date=days(-3)))
    put(s, document("doc-inv-minor-plain", MINOR, (AUTHOR,)))
    return actors


def _hidden_from(api, patient_id: str, doc: str, visible: set[str]) -> None:
    assert_not_found(api.get(f"DocumentReference/{doc}"))
    assert_not_found(api.get(f"DocumentReference/{doc}/_history/1"))
    assert_not_found(api.get(f"DocumentReference/{doc}/_history"))
    found, total = search_ids(api, f"DocumentReference?patient={patient_id}")
    assert found == visible and total == len(visible)
    assert search_ids(api, f"DocumentReference?_id={doc}") == (set(), 0)
    assert ids_of(ok(api.get(f"Patient/{patient_id}/$everything"), 200), "DocumentReference") == visible
    rev = ok(api.get(f"Patient?_id={patient_id}&_revinclude=DocumentReference:subject"), 200)
    assert ids_of(rev, "DocumentReference") == visible


def _visible_to(api, patient_id: str, doc: str) -> None:
    assert ok(api.get(f"DocumentReference/{doc}"), 200)["id"] == doc
    found, total = search_ids(api, f"DocumentReference?patient={patient_id}")
    assert doc in found and total == len(found)
    assert doc in ids_of(ok(api.get(f"Patient/{patient_id}/$everything"), 200), "DocumentReference")


def test_invisible_patient_hidden_from_holder(record):
    _hidden_from(record(f"Patient/{P}"), P, HIDDEN, {OLD, PLAIN})


def test_invisible_patient_hidden_from_minor_holder(record):
    _hidden_from(record(f"Patient/{MINOR}"), MINOR, MINOR_HIDDEN, {"doc-inv-minor-plain"})


def test_invisible_patient_hidden_from_legal_representative(record):
    _hidden_from(record("RelatedPerson/rp-inv-mother"), MINOR, MINOR_HIDDEN, {"doc-inv-minor-plain"})


@pytest.mark.parametrize("who", [AUTHOR, MT, TEAM])
def test_invisible_patient_visible_to_professionals(record, who):
    _visible_to(record(who), P, HIDDEN)
    _visible_to(record(who), MINOR, MINOR_HIDDEN)


def test_invisible_patient_visible_to_holder_once_its_month_is_over(record):
    """The document dated 40 days ago still carries the label, but its month (from its date) is over."""
    assert INVISIBLE_PATIENT in {c["code"] for l in ok(record.system.get(f"DocumentReference/{OLD}"))["securityLabel"]
                                 for c in l["coding"]}
    _visible_to(record(f"Patient/{P}"), P, OLD)


def test_invisible_patient_visible_to_holder_once_explicit_until_has_passed(record):
    doc = document("doc-inv-until-passed", P, (AUTHOR,), labels=(INVISIBLE_PATIENT,), date=days(-5))
    doc["extension"] = [{"url": HIDDEN_UNTIL_URL, "valueDateTime": days(-1)}]
    put(record.system, doc)
    _visible_to(record(f"Patient/{P}"), P, "doc-inv-until-passed")


def test_invisible_patient_document_one_day_short_of_its_month_still_hidden(record):
    put(record.system, document("doc-inv-29d", P, (AUTHOR,), labels=(INVISIBLE_PATIENT,), date=days(-29)))
    assert_not_found(record(f"Patient/{P}").get("DocumentReference/doc-inv-29d"))


def test_hide_from_patient_with_until_then_reveal(record):
    holder = record(f"Patient/{P}")
    _visible_to(holder, P, PLAIN)
    until = days(10)
    hidden = ok(record(AUTHOR).post(f"DocumentReference/{PLAIN}/$hide-from-patient", params(until=until)), 200)
    assert INVISIBLE_PATIENT in {c["code"] for l in hidden["securityLabel"] for c in l["coding"]}
    ext = {e["url"]: e.get("valueDateTime") for e in hidden.get("extension") or []}
    assert HIDDEN_UNTIL_URL in ext
    assert abs(datetime.fromisoformat(ext[HIDDEN_UNTIL_URL].replace("Z", "+00:00"))
               - datetime.fromisoformat(until.replace("Z", "+00:00"))) < timedelta(seconds=2)
    _hidden_from(holder, P, PLAIN, {OLD})
    _visible_to(record(MT), P, PLAIN)
    # the announcement consultation took place: a professional with access reveals it
    revealed = ok(record(MT).post(f"DocumentReference/{PLAIN}/$reveal-to-patient", params()), 200)
    assert INVISIBLE_PATIENT not in {c.get("code") for l in revealed.get("securityLabel", []) for c in l["coding"]}
    assert HIDDEN_UNTIL_URL not in {e["url"] for e in revealed.get("extension") or []}
    _visible_to(holder, P, PLAIN)


def test_hide_from_patient_without_until_lasts_one_month(record):
    hidden = ok(record(AUTHOR).post(f"DocumentReference/{PLAIN}/$hide-from-patient", params()), 200)
    until = next(e["valueDateTime"] for e in hidden["extension"] if e["url"] == HIDDEN_UNTIL_URL)
    delta = datetime.fromisoformat(until.replace("Z", "+00:00")) - now()
    assert timedelta(days=27) < delta <= timedelta(days=31, minutes=1)
    assert_not_found(record(f"Patient/{P}").get(f"DocumentReference/{PLAIN}"))


def test_hide_from_patient_on_an_older_document_hides_it_until_the_date_given(record):
    put(record.system, document("doc-inv-older", P, (AUTHOR,), date=days(-40)))
    ok(record(AUTHOR).post("DocumentReference/doc-inv-older/$hide-from-patient", params(until=days(10))), 200)
    assert_not_found(record(f"Patient/{P}").get("DocumentReference/doc-inv-older"))


def test_hide_from_patient_until_beyond_one_month_is_400(record):
    r = record(AUTHOR).post(f"DocumentReference/{PLAIN}/$hide-from-patient", params(until=days(40)))
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
    _visible_to(record(f"Patient/{P}"), P, PLAIN)


def test_hide_from_patient_until_in_the_past_is_400(record):
    r = record(AUTHOR).post(f"DocumentReference/{PLAIN}/$hide-from-patient", params(until=days(-1)))
    assert r.status_code == 400
    _visible_to(record(f"Patient/{P}"), P, PLAIN)


def test_hide_from_patient_by_a_professional_of_the_authors_organization(record):
    ok(record(TEAM, organization=CHU).post(f"DocumentReference/{PLAIN}/$hide-from-patient", params()), 200)
    assert_not_found(record(f"Patient/{P}").get(f"DocumentReference/{PLAIN}"))


@pytest.mark.parametrize("who", [MT, TEAM])
def test_hide_from_patient_refused_to_professional_who_is_not_the_author(record, who):
    assert_forbidden(record(who).post(f"DocumentReference/{PLAIN}/$hide-from-patient", params()), "author")
    _visible_to(record(f"Patient/{P}"), P, PLAIN)


@pytest.mark.parametrize("who", [MT, TEAM])
def test_hide_from_patient_on_a_hidden_document_refused_to_non_author(record, who):
    r = record(who).post(f"DocumentReference/{HIDDEN}/$hide-from-patient", params(until=days(1)))
    assert_forbidden(r, "author")
    assert ok(record.system.get(f"DocumentReference/{HIDDEN}"))["meta"]["versionId"] == "1"


def test_hide_from_patient_refused_to_holder(record):
    assert_forbidden(record(f"Patient/{P}").post(f"DocumentReference/{PLAIN}/$hide-from-patient", params()))


def test_hide_from_patient_by_patch_follows_the_same_rule(record):
    op = [{"op": "add", "path": "/securityLabel/-", "value": label(INVISIBLE_PATIENT)}]
    assert_forbidden(record(MT).patch(f"DocumentReference/{PLAIN}", op, headers=JSON_PATCH), "author")
    assert_forbidden(record(f"Patient/{P}").patch(f"DocumentReference/{PLAIN}", op, headers=JSON_PATCH))
    _visible_to(record(f"Patient/{P}"), P, PLAIN)
    ok(record(AUTHOR).patch(f"DocumentReference/{PLAIN}", op, headers=JSON_PATCH), 200)
    assert_not_found(record(f"Patient/{P}").get(f"DocumentReference/{PLAIN}"))


def test_reveal_refused_to_holder_and_unrelated_professional(record):
    assert record(f"Patient/{P}").post(f"DocumentReference/{HIDDEN}/$reveal-to-patient",
                                       params()).status_code in (403, 404)
    assert_not_found(record(OTHER).post(f"DocumentReference/{HIDDEN}/$reveal-to-patient", params()))  # issue 10
    assert_not_found(record(f"Patient/{P}").get(f"DocumentReference/{HIDDEN}"))


def test_holder_cannot_reveal_by_patch(record):
    """The holder does not even see the document: 404, and the label stays."""
    r = record(f"Patient/{P}").patch(f"DocumentReference/{HIDDEN}", [{"op": "remove", "path": "/securityLabel/1"}],
                                     headers=JSON_PATCH)
    assert r.status_code in (403, 404)
    assert_not_found(record(f"Patient/{P}").get(f"DocumentReference/{HIDDEN}"))


def test_holder_is_told_after_fourteen_days_without_seeing_the_document(record):
    put(record.system, document("doc-inv-15d", P, (AUTHOR,), labels=(INVISIBLE_PATIENT,), date=days(-15)))
    settings = record.app.state.settings
    assert notify_hidden_documents(record.app.state.store, settings, now()) >= 1
    holder = record(f"Patient/{P}")
    messages = [e["resource"] for e in ok(holder.get(f"Communication?subject=Patient/{P}"), 200).get("entry") or []]
    assert messages, "the holder got no message"
    text = " ".join(p.get("contentString", "") for m in messages for p in m.get("payload") or [])
    assert "doc-inv-15d" not in text   # the notice does not reveal the document
    assert_not_found(holder.get("DocumentReference/doc-inv-15d"))
    # no second notice for the same document
    assert notify_hidden_documents(record.app.state.store, settings, now()) == 0


def test_seeded_rcp_report_hidden_from_philippe_morel(seed):
    doc = "doc-philippe-morel-cr-rcp-2026-11"
    holder = seed("Patient/pat-philippe-morel")
    assert_not_found(holder.get(f"DocumentReference/{doc}"))
    assert doc not in search_ids(holder, "DocumentReference?patient=pat-philippe-morel")[0]
    for who in ("Practitioner/pra-anne-collin", "Practitioner/pra-marc-rousseau"):
        assert seed(who).get(f"DocumentReference/{doc}").status_code == 200, who


def _trace_text(api, patient_id: str) -> str:
    return str(ok(api.get(f"AuditEvent?patient=Patient/{patient_id}&_count=500")))


def test_read_traces_do_not_reveal_the_hidden_document_to_the_holder(record):
    """R1111-43: the holder reads the traces of the record, but not those that would name a document hidden from
    them (audit_scope.py: a trace carries the document's marks)."""
    assert ok(record(MT).get(f"DocumentReference/{MINOR_HIDDEN}"), 200)
    assert ok(record(MT).get("DocumentReference/doc-inv-minor-plain"), 200)
    for who in (f"Patient/{MINOR}", "RelatedPerson/rp-inv-mother"):
        traces = [e["resource"] for e in ok(record(who).get(f"AuditEvent?patient=Patient/{MINOR}&_count=500"))
                  .get("entry") or []]
        reads = [t for t in traces if "Practitioner/pra-mt" in str(t["agent"])]
        assert any("doc-inv-minor-plain" in str(t) for t in reads), who   # they see the record's traces ...
        assert not any(MINOR_HIDDEN in str(t) for t in reads), who        # ... but not the hidden one's
    assert MINOR_HIDDEN in _trace_text(record(MT), MINOR)


def test_creation_trace_does_not_reveal_the_hidden_document_to_the_holder(record):
    body = {k: v for k, v in document("x", P, (AUTHOR,), labels=(INVISIBLE_PATIENT,)).items() if k != "id"}
    created = ok(record(AUTHOR).post("DocumentReference", body), 201)
    plain = ok(record(AUTHOR).post("DocumentReference", {k: v for k, v in document("x", P, (AUTHOR,)).items()
                                                          if k != "id"}), 201)
    holder_view = _trace_text(record(f"Patient/{P}"), P)
    assert plain["id"] in holder_view               # the holder reads the creation traces of the record ...
    assert created["id"] not in holder_view         # ... but not the one naming the hidden document
    assert created["id"] in _trace_text(record(AUTHOR), P)
