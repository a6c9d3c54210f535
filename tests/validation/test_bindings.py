"""Required bindings: codes outside their value set are refused (fhir.resources lets them pass)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from fhir_server.errors import Unprocessable
from fhir_server.validation import bindings
from fhir_server.validation.structure import validate_resource

from .examples import consent, document_reference, observation, patient

REPO = Path(__file__).resolve().parents[2]
SHARED_DEFINITIONS = REPO.parent / "shared" / "fhir-r4" / "structure-definitions.json"
GENDER = "http://hl7.org/fhir/ValueSet/administrative-gender"


def code_issues(body) -> list:
    with pytest.raises(Unprocessable) as caught:
        validate_resource(body)
    assert caught.value.status == 422
    assert {i.code for i in caught.value.issues} == {"code-invalid"}
    return caught.value.issues


def expressions(issues) -> list[str]:
    return sorted(e for i in issues for e in i.expression)


def test_a_gender_outside_the_value_set_is_refused_with_the_allowed_codes():
    [issue] = code_issues(patient(gender="xx"))
    assert issue.expression == ["Patient.gender"]
    assert "'xx'" in issue.diagnostics and GENDER in issue.diagnostics
    assert "female, male, other, unknown" in issue.diagnostics


@pytest.mark.parametrize("body, expression", [
    (document_reference(status="active"), "DocumentReference.status"),
    (document_reference(docStatus="done"), "DocumentReference.docStatus"),
    (document_reference(relatesTo=[{"code": "replace", "target": {"reference": "DocumentReference/d0"}}]),
     "DocumentReference.relatesTo[0].code"),
    (consent(status="accepted"), "Consent.status"),
    (observation(status="done"), "Observation.status"),
    (patient(contact=[{"gender": "female"}, {"gender": "F"}]), "Patient.contact[1].gender"),
    (patient(link=[{"other": {"reference": "Patient/p2"}, "type": "duplicate"}]), "Patient.link[0].type"),
    ({"resourceType": "PractitionerRole", "availableTime": [{"daysOfWeek": ["mon", "lundi"]}]},
     "PractitionerRole.availableTime[0].daysOfWeek[1]"),
    ({"resourceType": "List", "status": "current", "mode": "snapshots"}, "List.mode"),
    ({"resourceType": "CareTeam", "status": "ongoing"}, "CareTeam.status"),
    ({"resourceType": "Communication", "status": "completed", "priority": "high"}, "Communication.priority"),
])
def test_bad_codes_are_reported_on_their_element(body, expression):
    [issue] = code_issues(body)
    assert issue.expression == [expression]


def test_codes_are_checked_in_recursive_elements():
    body = consent()
    body["provision"]["provision"][0]["type"] = "refuse"
    data = [{"meaning": "all", "reference": {"reference": "DocumentReference/d1"}}]
    body["provision"]["provision"][0]["provision"] = [{"type": "permit", "data": data}]
    assert expressions(code_issues(body)) == ["Consent.provision.provision[0].provision[0].data[0].meaning",
                                              "Consent.provision.provision[0].type"]


def test_codes_are_checked_in_contained_resources():
    body = document_reference(contained=[{"resourceType": "Practitioner", "id": "a", "gender": "homme"}])
    [issue] = code_issues(body)
    assert issue.expression == ["DocumentReference.contained[0].gender"]


def test_codes_nested_in_a_code_system_hierarchy_are_accepted():
    assert validate_resource(observation(status="corrected"))  # a child of 'amended'


def test_a_binding_whose_value_set_cannot_be_expanded_is_not_checked():
    body = {"resourceType": "Binary", "contentType": "application/x-vnd.made-up", "data": "AA=="}
    assert validate_resource(body) is body


def test_a_code_of_the_wrong_json_type_is_a_structure_issue_not_a_code_issue():
    with pytest.raises(Unprocessable) as caught:
        validate_resource(patient(gender=5))
    assert [(i.code, i.expression) for i in caught.value.issues] == [("structure", ["Patient.gender"])]


# --- value set expansion ----------------------------------------------------------------------------

def test_a_whole_code_system_expands_to_its_codes():
    assert bindings.expand(GENDER) == {"http://hl7.org/fhir/administrative-gender":
                                       frozenset({"male", "female", "other", "unknown"})}


def test_nested_code_system_concepts_are_part_of_the_expansion():
    codes = bindings.expand("http://hl7.org/fhir/ValueSet/observation-status")["http://hl7.org/fhir/observation-status"]
    assert {"amended", "corrected", "final"} <= codes


def test_an_explicit_concept_list_expands_to_those_concepts_only():
    expansion = bindings.expand("http://hl7.org/fhir/ValueSet/type-restful-interaction")
    codes = expansion["http://hl7.org/fhir/restful-interaction"]
    assert "read" in codes and "search-type" in codes
    assert "transaction" not in codes  # in the code system, not in this value set


def test_a_value_set_over_several_code_systems_keeps_them_apart():
    expansion = bindings.expand("http://hl7.org/fhir/ValueSet/all-types")
    assert "Patient" in expansion["http://hl7.org/fhir/resource-types"]
    assert "HumanName" in expansion["http://hl7.org/fhir/data-types"]


@pytest.mark.parametrize("url", ["http://hl7.org/fhir/ValueSet/mimetypes", "http://example.org/ValueSet/unknown"])
def test_a_value_set_we_cannot_expand_is_none(url):
    assert bindings.expand(url) is None


# --- Coding and CodeableConcept (no such required binding in our R4 types today; the rule is ready) ---

def check(value) -> list:
    issues: list = []
    bindings._check(GENDER, value, "X.coded", issues)
    return issues


@pytest.mark.parametrize("value, refused", [
    ({"system": "http://hl7.org/fhir/administrative-gender", "code": "male"}, False),
    ({"system": "http://hl7.org/fhir/administrative-gender", "code": "M"}, True),
    ({"system": "http://example.org/other", "code": "male"}, True),
    ({"code": "M"}, False),  # no system: cannot tell, never reject on uncertainty
    ({"coding": [{"system": "http://example.org/other", "code": "M"},
                 {"system": "http://hl7.org/fhir/administrative-gender", "code": "male"}]}, False),
    ({"coding": [{"system": "http://example.org/other", "code": "M"}]}, True),
    ({"coding": [{"system": "http://example.org/other", "code": "M"}, {"code": "x"}]}, False),
    ({"text": "homme"}, False),
    ({"coding": []}, False),
])
def test_codings_and_codeable_concepts_are_checked_on_system_and_code(value, refused):
    issues = check(value)
    assert bool(issues) is refused
    if refused:
        assert issues[0].expression == ["X.coded"] and issues[0].code == "code-invalid"


# --- the generated table --------------------------------------------------------------------------

def test_the_bindings_table_is_what_the_generator_makes_of_the_structure_definitions():
    if not SHARED_DEFINITIONS.is_file():
        pytest.skip("shared FHIR R4 definitions not present")
    script = REPO / "scripts" / "gen_required_bindings.py"
    spec = importlib.util.spec_from_file_location("gen_required_bindings", script)
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    committed = json.loads((REPO / "fhir_server" / "definitions" / "required-bindings.json").read_text("utf-8"))
    assert generator.generate(SHARED_DEFINITIONS) == committed, "run scripts/gen_required_bindings.py"


def test_the_bindings_table_knows_our_coded_elements():
    tables = json.loads((REPO / "fhir_server" / "definitions" / "required-bindings.json").read_text("utf-8"))["types"]
    assert tables["Patient"]["bindings"]["Patient.gender"] == GENDER
    assert tables["Consent"]["contentReferences"]["Consent.provision.provision"] == "Consent.provision"
    assert "DocumentReference.contained" in tables["DocumentReference"]["resourceElements"]


def test_deeply_recursive_elements_are_refused_without_crashing():
    provision = {"type": "permit"}
    for _ in range(3000):
        provision = {"type": "deny", "provision": [provision]}
    with pytest.raises(Unprocessable) as caught:
        validate_resource(consent(provision=provision))
    assert "nested more than" in caught.value.issues[0].diagnostics
