"""The registry lists every parameter of our types, and extraction writes normalised `_idx` values."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from fhir_server.fhir_types import SUPPORTED_TYPES
from fhir_server.search.index import extract_index
from fhir_server.search.registry import CAPABILITY_DIR, registry

IG = Path(__file__).resolve().parents[3] / "shared" / "ig" / "ans.fhir.fr.pdsm-3.1.1" / "example"
UTC = timezone.utc


def test_every_type_has_its_standard_and_common_parameters():
    reg = registry()
    for rtype in SUPPORTED_TYPES:
        params = reg.params_for(rtype)
        assert {"_id", "_lastUpdated", "_tag", "_profile", "_security"} <= set(params), rtype
        for p in params.values():
            assert p.code and p.type and p.url and p.expression is not None


def test_document_reference_has_the_mhd_and_pdsm_parameters():
    params = registry().params_for("DocumentReference")
    for code in ("patient", "security-label", "creation", "isArchived", "period-start", "period-end", "facility",
                 "event", "setting", "related", "author", "status", "type", "category", "date", "period"):
        assert code in params, code
    assert params["creation"].type == "date" and params["isArchived"].type == "token"
    assert "identifier" in params["patient"].chain and {"given", "family"} <= set(params["author"].chain)
    assert "Patient" in params["subject"].modifiers and "missing" in params["subject"].modifiers


def test_custom_parameters_are_published_in_capability():
    custom = registry().custom_parameters()
    assert {p["code"] for p in custom} == {"creation", "isArchived", "period-start", "period-end", "purpose"}
    for p in custom:
        published = json.loads((CAPABILITY_DIR / f"SearchParameter-{p['id']}.json").read_text())
        assert published == p


def test_string_values_are_folded_per_name_part():
    idx = extract_index({"resourceType": "Patient", "id": "p", "name": [
        {"family": "Lefèvre-Hébert", "given": ["Hélène", "Zoé"], "prefix": ["Mme"], "text": "Hélène LEFÈVRE"}]})
    assert {"lefevre-hebert", "helene", "zoe", "mme", "helene lefevre"} <= set(idx["name"]["v"])
    assert idx["family"]["v"][0] == "lefevre-hebert" and idx["family"]["x"] == ["Lefèvre-Hébert"]
    assert " hebert" in idx["family"]["v"] and " ebert" in idx["family"]["v"]      # word suffixes for :contains


def test_token_values_cover_system_code_forms_text_and_identifier_type():
    idx = extract_index({"resourceType": "Patient", "id": "p", "gender": "female", "active": True,
                         "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "123",
                                         "type": {"coding": [{"system": "http://t", "code": "INS-NIR"}]}},
                                        {"value": "nosys"}]})
    assert {"urn:oid:1.2.250.1.213.1.4.8|123", "123", "  http://t|INS-NIR|123", "|nosys", "nosys"} <= \
        set(idx["identifier"]["t"])
    assert set(idx["gender"]["t"]) == {"female", "http://hl7.org/fhir/administrative-gender|female"}
    assert set(idx["active"]["t"]) == {"true", "|true"}


def test_reference_values_are_relative_with_plain_id_too():
    idx = extract_index({"resourceType": "DocumentReference", "id": "d", "status": "current",
                         "subject": {"reference": "http://testserver/fhir/Patient/p1"},
                         "author": [{"reference": "Practitioner/pr1/_history/2"},
                                    {"reference": "http://elsewhere.org/fhir/Practitioner/x"}],
                         "content": [{"attachment": {"url": "Binary/b"}}]}, base_url="http://testserver/fhir")
    assert set(idx["subject"]["r"]) == {"Patient/p1", "p1"} and idx["patient"]["r"] == idx["subject"]["r"]
    assert set(idx["author"]["r"]) == {"Practitioner/pr1", "pr1", "http://elsewhere.org/fhir/Practitioner/x"}


def test_dates_are_utc_ranges_honouring_precision_and_paris_time():
    idx = extract_index({"resourceType": "Patient", "id": "p", "birthDate": "1980-01-15"})
    assert idx["birthdate"]["r"] == [{"lo": datetime(1980, 1, 14, 23, tzinfo=UTC),
                                     "hi": datetime(1980, 1, 15, 23, tzinfo=UTC)}]
    idx = extract_index({"resourceType": "DocumentReference", "id": "d", "status": "current",
                         "date": "2024-07-01T10:00:00+02:00", "content": [],
                         "context": {"period": {"start": "2024-07", "end": "2024-07-03T12:30Z"}}})
    assert idx["date"]["r"] == [{"lo": datetime(2024, 7, 1, 8, tzinfo=UTC), "hi": datetime(2024, 7, 1, 8, 0, 1, tzinfo=UTC)}]
    assert idx["period"]["r"] == [{"lo": datetime(2024, 6, 30, 22, tzinfo=UTC),          # Paris summer time
                                  "hi": datetime(2024, 7, 3, 12, 31, tzinfo=UTC)}]
    assert idx["period-start"]["r"][0]["hi"] == datetime(2024, 7, 31, 22, tzinfo=UTC)


def test_meta_values_are_indexed():
    idx = extract_index({"resourceType": "Patient", "id": "p", "meta": {
        "lastUpdated": "2025-01-02T03:04:05.678Z", "profile": ["http://p/1"],
        "tag": [{"system": "http://s", "code": "t"}], "security": [{"system": "http://c", "code": "R"}]}})
    assert idx["_lastUpdated"]["s"] == datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert idx["_profile"]["u"] == ["http://p/1"] and "http://s|t" in idx["_tag"]["t"]
    assert "http://c|R" in idx["_security"]["t"]


def test_pdsm_example_extracts_mhd_parameters():
    doc = json.loads((IG / "DocumentReference-exemple-pdsm-documentreference.json").read_text())
    doc["extension"] = [{"url": "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-ext-is-archived",
                         "valueBoolean": False}]
    idx = extract_index(doc)
    assert "false" in idx["isArchived"]["t"] and "SA01" in idx["facility"]["t"]
    assert "ETABLISSEMENT" in idx["setting"]["t"] and "N" in idx["security-label"]["t"]
    assert idx["creation"]["s"] == datetime(2025, 4, 25, 8, 30, tzinfo=UTC)


def test_observation_choice_values_and_composites():
    obs = {"resourceType": "Observation", "id": "o", "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
           "valueQuantity": {"value": 120, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}
    idx = extract_index(obs)
    assert idx["value-quantity"]["q"] == [{"v": 120.0, "c": "mm[Hg]", "sc": "http://unitsofmeasure.org|mm[Hg]",
                                           "u": "mmHg"}]
    row = idx["code-value-quantity"]["c"][0]
    assert "http://loinc.org|8480-6" in row["c0"]["t"] and row["c1"]["q"][0]["v"] == 120.0


def test_deceased_is_a_boolean_token():
    assert "true" in extract_index({"resourceType": "Patient", "id": "p", "deceasedDateTime": "2020"})["deceased"]["t"]
    assert "false" in extract_index({"resourceType": "Patient", "id": "p"})["deceased"]["t"]


def _resources_of_every_kind() -> list[dict]:
    """The seed's resources, the IG's examples and two AuditEvents as the audit writer builds them."""
    from fhir_server.audit.balp import Trace, audit_event
    from fhir_server.auth.actor import Actor

    seed = Path(__file__).resolve().parents[2] / "seed_data"
    found = [e["resource"] for f in sorted(seed.glob("*.json")) for e in json.loads(f.read_text()).get("entry", [])]
    for f in sorted(IG.glob("*.json")):
        example = json.loads(f.read_text())
        found += [e["resource"] for e in example.get("entry", []) if "resource" in e] or [example]
    trace = Trace(kind="read", resource_type="DocumentReference", touched={"p1": ["DocumentReference/d1"]})
    actor = Actor(reference="Practitioner/pr1", organization="Organization/o1")
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    found.append(audit_event(trace, actor, "p1", ["DocumentReference/d1"], now, "req-1", "2026-01-02T03:04:05Z"))
    found.append(audit_event(trace, actor, "", [], now, "req-2", "2026-01-02T03:04:05Z"))
    return found


def test_walked_paths_give_what_the_step_by_step_evaluation_gives():
    """The fast walk over JSON values (child steps and resolve/where filters) against `_Step.apply` on Nodes, for
    every parameter of every type on resources of every kind, values present and absent."""
    from fhir_server.search.expressions import Node

    resources = _resources_of_every_kind()
    assert {"DocumentReference", "Patient", "AuditEvent"} <= {r.get("resourceType") for r in resources}
    compared = 0
    for resource in resources:
        for indexer in registry().indexers(resource.get("resourceType", "")):
            expression = indexer.expression
            for (_, steps), _, walk in expression._plan:
                if walk is None:
                    continue
                nodes = [Node(resource)]
                for step in steps:
                    nodes = step.apply(nodes)
                fast = expression.__class__((("", steps),), ())(resource)
                assert fast == nodes, (resource.get("id"), indexer.param.code, steps)
                assert all(type(node) is Node for node in fast)
                compared += bool(nodes)
    assert compared > 500        # the comparison met values, not only absences


def test_a_walk_takes_names_and_literals_as_data_not_code():
    """A walk is compiled from the expression's text (a custom SearchParameter's too): quotes, backslashes and code
    in a where literal are compared as text, never run."""
    from fhir_server.search.expressions import compile_expression

    literal = 'a"b\\c) or __import__("os").system("false") #\n'
    expression = compile_expression(f"Patient.telecom.where(system='{literal}').use", "Patient")
    assert expression._plan[0][2] is not None          # walked, not evaluated step by step
    patient = {"resourceType": "Patient", "telecom": [{"system": literal, "use": "kept"},
                                                        {"system": "email", "use": "left"},
                                                        {"system": 'a"b\\c', "use": "left too"}]}
    assert [n.value for n in expression(patient)] == ["kept"]
    resolved = compile_expression("Patient.generalPractitioner.where(resolve() is Organization)", "Patient")
    practitioners = [{"reference": "Practitioner/p1"}, {"reference": "Organization/o1"}, "Organization/o2"]
    assert [n.value for n in resolved({"generalPractitioner": practitioners})] == [{"reference": "Organization/o1"}]
