"""Unknown or unsupported input is a 400 naming it, or a warning with lenient handling."""

from __future__ import annotations

import pytest

from fhir_server.errors import BadRequest
from fhir_server.search.compile import compile_search


@pytest.mark.parametrize("query, named", [
    ([("nonsense", "1")], "nonsense"),
    ([("family:sounds-like", "x")], "sounds-like"),
    ([("gender:exact", "male")], "exact"),
    ([("_text", "x")], "_text"),
    ([("_content", "x")], "_content"),
    ([("_sort", "nonsense")], "nonsense"),
    ([("_include", "Patient:nonsense")], "nonsense"),
    ([("_include", "Patient:family")], "family"),
    ([("_revinclude", "Nonsense:subject")], "Nonsense"),
])
def test_unknown_parameters_and_modifiers_are_refused_by_name(query, named):
    with pytest.raises(BadRequest) as err:
        compile_search("Patient", query)
    assert named in err.value.diagnostics
    assert err.value.status == 400


@pytest.mark.parametrize("query", [
    [("_count", "-1")], [("_count", "ten")], [("_total", "some")], [("_summary", "maybe")],
    [("_sort", "-")], [("_count", "1"), ("_count", "2")], [("_page", "garbage")], [("_include", "Patient")],
    [("_include:deep", "Patient:organization")], [("birthdate", "ab2020")], [("_has:Observation", "x")],
])
def test_malformed_result_parameters_are_refused(query):
    with pytest.raises(BadRequest):
        compile_search("Patient", query)


def test_unknown_type_is_refused():
    with pytest.raises(BadRequest):
        compile_search("Nonsense", [])


def test_lenient_ignores_and_reports(db):
    db.put({"resourceType": "Patient", "name": [{"family": "Martin"}]}, "p1")
    bundle = db.search("Patient", "family=mar&nonsense=1&given:sounds-like=x", lenient=True)
    matches = [e for e in bundle["entry"] if e["search"]["mode"] == "match"]
    outcome = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"][0]["resource"]
    assert [m["resource"]["id"] for m in matches] == ["p1"]
    diagnostics = " ".join(i["diagnostics"] for i in outcome["issue"])
    assert "nonsense" in diagnostics and "sounds-like" in diagnostics
    assert all(i["severity"] == "warning" for i in outcome["issue"])


def test_lenient_does_not_excuse_malformed_values(db):
    with pytest.raises(BadRequest):
        db.search("Patient", "birthdate=not-a-date", lenient=True)


def test_filter_always_excludes_deleted():
    assert compile_search("Patient", []).filter == {"deleted": False}
    assert compile_search("Patient", [("family", "x")]).filter["deleted"] is False


def test_deleted_resources_are_not_found(db):
    db.put({"resourceType": "Patient", "name": [{"family": "Martin"}]}, "p1")
    db.delete("Patient", "p1")
    assert db.ids("Patient", "") == set()
    assert db.search("Patient", "")["total"] == 0


def test_empty_values_are_ignored(db):
    db.put({"resourceType": "Patient"}, "p1")
    assert db.ids("Patient", "family=") == {"p1"}
