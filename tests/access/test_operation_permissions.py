"""CONTRACT.md "Custom operations": each refuses a caller without the right with 403 and an OperationOutcome
that says why, changes nothing, and is traced (an AuditEvent is written for the refusal too)."""

from __future__ import annotations

import pytest

from fhir_server.audit.writer import COLLECTION
from tests.access.builders import (INVISIBLE_PATIENT, MASQUE_PS, assert_forbidden, assert_not_found, birth_date, care_team, days,
                                   diagnostics, document, ok, params, patient, practitioner, put, ref,
                                   related_person)

P, M = "pat-ops", "pat-ops-minor"
AUTHOR, MT, TEAM, STRANGER = ("Practitioner/pra-author", "Practitioner/pra-mt", "Practitioner/pra-team",
                              "Practitioner/pra-stranger")
HOLDER, OTHER_PATIENT, REP = f"Patient/{P}", "Patient/pat-ops-other", "RelatedPerson/rp-ops"


@pytest.fixture
def record(actors):
    s = actors.system
    for pra in ("pra-author", "pra-mt", "pra-team", "pra-stranger"):
        put(s, practitioner(pra))
    put(s, patient(P, gps=("pra-mt",)))
    put(s, patient("pat-ops-other"))
    put(s, patient(M, birth=birth_date(10)))
    put(s, related_person("rp-ops", M))
    put(s, care_team("ct-ops", P, (TEAM, AUTHOR)))
    put(s, document("doc-ops", P, (AUTHOR,)))
    put(s, document("doc-ops-masked", P, (AUTHOR,), labels=(MASQUE_PS,)))
    put(s, document("doc-ops-hidden", P, (AUTHOR,), labels=(INVISIBLE_PATIENT,), date=days(-1)))
    return actors


# (operation path, body, caller, words the reason must contain)
REFUSALS = [
    ("DocumentReference/doc-ops/$hide-from-patient", params(), MT, "author"),
    ("DocumentReference/doc-ops/$hide-from-patient", params(), TEAM, "author"),
    ("DocumentReference/doc-ops/$hide-from-patient", params(), HOLDER, ""),
    ("DocumentReference/doc-ops/$hide-from-patient", params(), STRANGER, "authoris"),
    ("DocumentReference/doc-ops-hidden/$reveal-to-patient", params(), STRANGER, "authoris"),
    ("DocumentReference/doc-ops/$mask", params(), MT, "holder"),
    ("DocumentReference/doc-ops/$mask", params(), AUTHOR, "holder"),
    ("DocumentReference/doc-ops/$mask", params(), STRANGER, ""),
    ("DocumentReference/doc-ops/$mask", params(), OTHER_PATIENT, ""),
    ("DocumentReference/doc-ops-masked/$unmask", params(), MT, "holder"),
    ("DocumentReference/doc-ops-masked/$unmask", params(), OTHER_PATIENT, ""),
    ("DocumentReference/doc-ops/$hide-from-representatives", params(), MT, "author"),
    ("DocumentReference/doc-ops/$hide-from-representatives", params(), HOLDER, ""),
    ("DocumentReference/doc-ops/$hide-from-representatives", params(), STRANGER, ""),
    (f"Patient/{P}/$oppose", params(actor=ref(STRANGER)), MT, "holder"),
    (f"Patient/{P}/$oppose", params(actor=ref(STRANGER)), TEAM, "holder"),
    (f"Patient/{P}/$oppose", params(actor=ref(STRANGER)), OTHER_PATIENT, "holder"),
    (f"Patient/{P}/$oppose", params(actor=ref(STRANGER)), REP, "holder"),
    (f"Patient/{P}/$withdraw-opposition", params(actor=ref(STRANGER)), MT, "holder"),
    (f"Patient/{P}/$withdraw-opposition", params(actor=ref(STRANGER)), OTHER_PATIENT, "holder"),
    (f"Patient/{P}/$oppose-emergency-access", params(mode="centre_15"), MT, "holder"),
    (f"Patient/{P}/$oppose-emergency-access", params(mode="centre_15"), OTHER_PATIENT, "holder"),
    (f"Patient/{P}/$authorize", params(actor=ref(STRANGER)), OTHER_PATIENT, ""),
    (f"Patient/{P}/$authorize", params(actor=ref(STRANGER)), REP, ""),
    (f"Patient/{P}/$authorize", params(actor=ref(STRANGER)), "Device/no-system-scope", ""),
    (f"Patient/{P}/$close-dmp", params(reason="x"), MT, "holder"),
    (f"Patient/{P}/$close-dmp", params(reason="x"), OTHER_PATIENT, "holder"),
    (f"Patient/{M}/$close-dmp", params(reason="x"), REP, "holder"),
    (f"Patient/{P}/$reactivate-dmp", params(), MT, "holder"),
    (f"Patient/{P}/$reactivate-dmp", params(), OTHER_PATIENT, "holder"),
    (f"Patient/{P}/$everything", None, STRANGER, "authoris"),
    (f"Patient/{P}/$everything", None, OTHER_PATIENT, ""),
    (f"Patient/{P}/$everything", None, REP, ""),
]


def _traces(actors) -> int:
    return len(actors.app.state.store.find(COLLECTION, {}))


def _state(actors) -> list:
    out = []
    for path in ("DocumentReference?_count=100", "Consent?_count=100", f"Patient?_id={P},{M}"):
        out += [(e["resource"]["id"], e["resource"]["meta"]["versionId"])
                for e in ok(actors.system.get(path)).get("entry") or []]
    return sorted(out)


@pytest.mark.parametrize("path,body,caller,words", REFUSALS,
                         ids=[f"{p.rsplit('/', 1)[-1]}-by-{c.split('/')[1]}" for p, _, c, _ in REFUSALS])
def test_operation_refuses_caller_without_the_right(record, path, body, caller, words):
    api = record(caller, scope="user/*.cruds") if caller.startswith("Device/") else record(caller)
    before_state, before_traces = _state(record), _traces(record)
    r = api.post(path, body) if body is not None else api.get(path)
    if r.status_code == 404 and path.startswith("DocumentReference/") and caller in (STRANGER, OTHER_PATIENT):
        assert_not_found(r)   # issue 10: a document of a record refused to the caller is 404 like an absent id
    else:
        assert_forbidden(r, *([words] if words else []))
    assert _state(record) == before_state, "a refused operation changed the record"
    assert _traces(record) > before_traces, "the refusal was not traced"


def test_hidden_document_operations_answer_404_to_those_who_may_not_see_it(record):
    """A masked document is 404 for a professional who may not see it, whatever the operation."""
    put(record.system, practitioner("pra-gp2"))
    put(record.system, care_team("ct-ops-2", P, ("Practitioner/pra-gp2",)))
    api = record("Practitioner/pra-gp2")
    for op in ("hide-from-patient", "reveal-to-patient", "mask", "unmask", "hide-from-representatives"):
        r = api.post(f"DocumentReference/doc-ops-masked/${op}", params())
        assert r.status_code == 404, (op, r.text)
    assert record.system.get("DocumentReference/doc-ops-masked").json()["meta"]["versionId"] == "1"


def test_operations_on_unknown_targets_are_404(record):
    assert record(HOLDER).post("DocumentReference/nope/$mask", params()).status_code == 404
    assert record(HOLDER).post("Patient/nope/$close-dmp", params(reason="x")).status_code in (403, 404)


def test_state_changing_operations_refuse_get(record):
    r = record(HOLDER).get("DocumentReference/doc-ops/$mask")
    assert r.status_code == 405
    assert diagnostics(r)


def test_each_allowed_operation_is_traced(record):
    for api, path, body in ((record(HOLDER), "DocumentReference/doc-ops/$mask", params()),
                            (record(HOLDER), "DocumentReference/doc-ops/$unmask", params()),
                            (record(AUTHOR), "DocumentReference/doc-ops/$hide-from-patient", params()),
                            (record(MT), "DocumentReference/doc-ops/$reveal-to-patient", params()),
                            (record(HOLDER), f"Patient/{P}/$oppose", params(actor=ref(STRANGER))),
                            (record(HOLDER), f"Patient/{P}/$withdraw-opposition", params(actor=ref(STRANGER))),
                            (record(HOLDER), f"Patient/{P}/$oppose-emergency-access", params(mode="centre_15")),
                            (record(HOLDER), f"Patient/{P}/$authorize", params(actor=ref(STRANGER))),
                            (record(HOLDER), f"Patient/{P}/$close-dmp", params(reason="x")),
                            (record(HOLDER), f"Patient/{P}/$reactivate-dmp", params())):
        before = _traces(record)
        ok(api.post(path, body), 200, 201)
        assert _traces(record) > before, path
