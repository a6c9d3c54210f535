"""The audit writer's index memo (search/index.py IndexMemo) gives every trace exactly the `_idx` that evaluating
each search parameter gives, whatever traces came before it, and any resource type its own values; a parameter
that reads a varying place, or tests one in a filter, is evaluated every time."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fhir_server.audit.balp import VARYING, Trace, audit_event
from fhir_server.auth.actor import Actor
from fhir_server.search.index import IndexMemo, extract_index

SEED = Path(__file__).resolve().parents[2] / "seed_data"
ACTORS = [Actor(reference="Practitioner/p1"), Actor(reference="Practitioner/p1", organization="Organization/o1"),
          Actor(reference="Practitioner/p2", access_mode="bris_de_glace", reason="coma", client_ip="10.0.0.2",
                token_id="jti-1"),
          Actor(reference="Patient/pat-a", client_ip="10.0.0.3"), Actor(reference="Device/d1", token_id="jti-2")]


def _traces() -> list[Trace]:
    traces = []
    for kind, refused, query in itertools.product(("read", "search-type", "create", "operation", "delete"),
                                                  (False, True), (None, "DocumentReference?patient=pat-a")):
        trace = Trace(kind=kind, resource_type="DocumentReference", query=query,
                      operation="mask" if kind == "operation" else None, refused=refused,
                      outcome="4" if refused else "0", outcome_text="403: refused" if refused else None)
        trace.touch(["pat-a"], "DocumentReference/d1")
        traces.append(trace)
    return traces


def _events() -> list[dict]:
    events, start = [], datetime(2026, 12, 1, tzinfo=timezone.utc)
    for i, (trace, actor, patient) in enumerate(itertools.product(_traces(), ACTORS, ("pat-a", "pat-b", ""))):
        when = start + timedelta(seconds=i)
        event = audit_event(trace, actor, patient, trace.touched.get("pat-a", []) if patient else [], when,
                            f"req-{i % 7}", when.isoformat())
        events.append({**event, "id": f"ae-{i}", "meta": {**event["meta"], "versionId": "1",
                                                          "lastUpdated": event["recorded"]}})
    return events


def test_every_trace_gets_the_index_its_parameters_give():
    memo, events = IndexMemo(VARYING), _events()
    assert len(events) >= 300
    for event in events + events[::-1]:         # again in the other order, every value now remembered
        assert extract_index(event, memo=memo) == extract_index(event)


def test_the_memo_tells_resource_types_apart():
    memo = IndexMemo(VARYING)
    for path in sorted(SEED.glob("*.json")):
        for entry in json.loads(path.read_text())["entry"]:
            resource = entry["resource"]
            assert extract_index(resource, memo=memo) == extract_index(resource), resource["id"]


def test_a_full_memo_starts_afresh_and_still_answers_right(monkeypatch):
    monkeypatch.setattr(IndexMemo, "MAX_ENTRIES", 10)
    memo = IndexMemo(VARYING)
    for event in _events()[:60]:
        assert extract_index(event, memo=memo) == extract_index(event)
        assert len(memo._rests) <= 10


def test_only_the_parameters_reaching_a_varying_place_are_evaluated_again():
    evaluated = {indexer.param.code for indexer in IndexMemo(VARYING)._split_of("AuditEvent", None)[0]}
    assert evaluated == {"_lastUpdated", "date", "entity", "patient"}


def test_a_filter_testing_a_varying_place_makes_its_parameter_evaluated_again():
    # Patient.email is telecom.where(system='email'): the filter reads telecom.system
    patients = [{"resourceType": "Patient", "id": "p", "telecom": [{"system": system, "value": "a@b.fr"}]}
                for system in ("email", "phone", "email")]
    memo = IndexMemo(("telecom.system",))
    assert "email" in {indexer.param.code for indexer in memo._split_of("Patient", None)[0]}
    for patient in patients:
        assert extract_index(patient, memo=memo) == extract_index(patient)
    assert "email" not in extract_index(patients[1], memo=memo)


def test_a_change_outside_the_varying_places_is_a_new_entry():
    first, second = _events()[:2]
    assert first["agent"] == second["agent"]
    memo = IndexMemo(VARYING)
    extract_index(first, memo=memo)
    extract_index(second, memo=memo)            # another request doing the same: the same entry
    assert len(memo._rests) == 1
    changed = {**second, "agent": [{**second["agent"][0], "who": {"reference": "Practitioner/other"}},
                                   *second["agent"][1:]]}
    assert extract_index(changed, memo=memo)["agent"] == extract_index(changed)["agent"]
    assert len(memo._rests) == 2
