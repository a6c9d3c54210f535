"""validate_resource / parse_json: what the server accepts, and how it says what is wrong."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

from fhir_server.errors import BadRequest, FhirError, Unprocessable
from fhir_server.fhir_types import SUPPORTED_TYPES
from fhir_server.validation.structure import parse_json, validate_resource

from .examples import document_reference, observation, patient, valid_resources

PDSM_EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "ig" / "ans.fhir.fr.pdsm-3.1.1" / "example"


def pdsm_examples() -> list[Path]:
    files = sorted(PDSM_EXAMPLES.glob("*.json"))
    return [f for f in files if json.loads(f.read_bytes()).get("resourceType") in SUPPORTED_TYPES]


def rejected(body, expected_type=None) -> FhirError:
    with pytest.raises(FhirError) as caught:
        validate_resource(body, expected_type)
    return caught.value


def invalid(body, expected_type=None) -> Unprocessable:
    error = rejected(body, expected_type)
    assert isinstance(error, Unprocessable) and error.status == 422
    return error


def paths(error: FhirError) -> list[str]:
    return sorted(e for issue in error.issues for e in issue.expression)


def only_issue(error: FhirError):
    assert len(error.issues) == 1, [i.to_json() for i in error.issues]
    return error.issues[0]


# --- what passes ---------------------------------------------------------------------------------

@pytest.mark.skipif(not PDSM_EXAMPLES.is_dir(), reason="shared PDSm package not present")
@pytest.mark.parametrize("path", pdsm_examples(), ids=lambda p: p.name)
def test_pdsm_examples_are_accepted_as_they_are(path):
    body = parse_json(path.read_bytes())
    before = copy.deepcopy(body)
    assert validate_resource(body, body["resourceType"]) is body
    assert body == before


def test_pdsm_examples_cover_several_types():
    if PDSM_EXAMPLES.is_dir():
        types = {json.loads(p.read_bytes())["resourceType"] for p in pdsm_examples()}
        assert {"Patient", "DocumentReference", "List", "Binary", "Organization"} <= types


@pytest.mark.parametrize("body", valid_resources(), ids=lambda b: b["resourceType"])
def test_valid_resources_are_returned_unchanged(body):
    before = copy.deepcopy(body)
    assert validate_resource(body) is body
    assert body == before


def test_a_required_primitive_may_be_replaced_by_an_explaining_extension():
    body = observation()
    del body["status"]
    body["_status"] = {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                                      "valueCode": "unknown"}]}
    assert validate_resource(body) is body


def test_nulls_in_a_primitive_array_are_allowed_when_the_extension_twin_fills_them():
    body = patient(name=[{"family": "Martin", "given": [None, "Anne"],
                          "_given": [{"extension": [{"url": "http://example.org/x", "valueString": "C."}]}, None]}])
    assert validate_resource(body) is body


def test_contained_resources_are_validated_with_their_own_type():
    body = document_reference(contained=[{"resourceType": "Practitioner", "id": "author",
                                          "name": [{"family": "Durand"}]}],
                              author=[{"reference": "#author"}])
    assert validate_resource(body) is body


# --- parse_json ------------------------------------------------------------------------------------

def test_parse_json_returns_the_json():
    assert parse_json(b'{"resourceType": "Patient", "active": true}') == {"resourceType": "Patient", "active": True}


def test_parse_json_tolerates_a_utf8_byte_order_mark():
    assert parse_json(b'\xef\xbb\xbf{"resourceType": "Patient"}') == {"resourceType": "Patient"}


@pytest.mark.parametrize("raw, words", [
    (b'{"resourceType": "Patient",', "not valid JSON"),
    (b'{"resourceType": "Patient", "active": NaN}', "not valid JSON"),
    (b"\xff\xfe{}", "not valid UTF-8"),
    (b'{"name": "\xe9"}', "not valid UTF-8"),
    (b"", "empty"),
    (b"   ", "empty"),
    (None, "JSON text"),
])
def test_parse_json_refuses_what_is_not_json(raw, words):
    with pytest.raises(BadRequest) as caught:
        parse_json(raw)
    assert caught.value.status == 400
    assert words in caught.value.diagnostics


# --- 400: not a resource we serve here ---------------------------------------------------------------

@pytest.mark.parametrize("body", [[], "Patient", None, 5, [{"resourceType": "Patient"}]])
def test_a_body_that_is_not_an_object_is_a_bad_request(body):
    error = rejected(body)
    assert isinstance(error, BadRequest) and error.status == 400
    assert "JSON object" in error.diagnostics


@pytest.mark.parametrize("body, words", [
    ({"gender": "female"}, "no resourceType"),
    ({"resourceType": 5}, "must be a string"),
    ({"resourceType": None}, "no resourceType"),
    ({"resourceType": ["Patient"]}, "must be a string"),
    ({"resourceType": "Medication"}, "'Medication' is not supported"),
    ({"resourceType": "Nope"}, "'Nope' is not supported"),
    ({"resourceType": "Bundle", "type": "transaction"}, "'Bundle' is not supported"),
])
def test_a_missing_or_unsupported_resource_type_is_a_bad_request(body, words):
    error = rejected(body)
    assert isinstance(error, BadRequest) and error.status == 400
    assert only_issue(error).expression == ["resourceType"]
    assert words in error.diagnostics


def test_a_resource_of_another_type_than_the_endpoint_is_a_bad_request():
    error = rejected(observation(), "Patient")
    assert isinstance(error, BadRequest) and error.status == 400
    issue = only_issue(error)
    assert issue.expression == ["resourceType"]
    assert issue.diagnostics == "resourceType 'Observation' does not match the endpoint type 'Patient'"


# --- 422: the resource is invalid -------------------------------------------------------------------

@pytest.mark.parametrize("date", ["2020-13-45", "yesterday", "2020-02-30", "12/03/1979", "1979-03-12T10:00:00Z", ""])
def test_a_bad_date_is_reported_on_its_element(date):
    issue = only_issue(invalid(patient(birthDate=date)))
    assert issue.expression == ["Patient.birthDate"]
    assert issue.code == "value"
    assert "date" in issue.diagnostics and "YYYY-MM-DD" in issue.diagnostics


@pytest.mark.parametrize("when", ["yesterday", "2024-11-20T08:30:00", "2024-11-20T25:00:00Z"])
def test_a_bad_date_time_in_a_choice_element_is_reported_with_its_json_name(when):
    issue = only_issue(invalid(observation(effectiveDateTime=when)))
    assert issue.expression == ["Observation.effectiveDateTime"]
    assert "time zone" in issue.diagnostics


def test_an_array_item_of_the_wrong_type_is_reported_at_its_index():
    error = invalid(patient(name=[{"family": "Martin", "given": ["Claire", 5]}]))
    assert only_issue(error).expression == ["Patient.name[0].given[1]"]
    assert "must be a JSON string" in error.issues[0].diagnostics


def test_a_nested_element_of_the_wrong_type_is_reported_with_its_full_path():
    body = document_reference(content=[{"attachment": {"contentType": 5, "url": "Binary/b1"}}])
    issue = only_issue(invalid(body))
    assert issue.expression == ["DocumentReference.content[0].attachment.contentType"]


def test_a_choice_element_value_is_checked():
    body = observation(valueQuantity={"value": "soixante-douze", "unit": "kg"})
    issue = only_issue(invalid(body))
    assert issue.expression == ["Observation.valueQuantity.value"]
    assert "JSON number" in issue.diagnostics


def test_a_choice_element_given_twice_is_reported_once_on_the_choice():
    issue = only_issue(invalid(observation(valueString="72 kg")))
    assert issue.expression == ["Observation.value[x]"]
    assert "valueQuantity" in issue.diagnostics and "valueString" in issue.diagnostics


def test_a_required_choice_element_missing_is_reported_on_the_choice():
    body = {"resourceType": "Communication", "status": "completed", "payload": [{"id": "p"}]}
    issue = only_issue(invalid(body))
    assert issue.expression == ["Communication.payload[0].content[x]"]
    assert issue.code == "required"


def test_a_primitive_extension_is_reported_on_the_primitive():
    body = patient(_birthDate={"extension": [{"url": 3, "valueString": "x"}]})
    issue = only_issue(invalid(body))
    assert issue.expression == ["Patient.birthDate.extension[0].url"]


def test_unknown_elements_are_reported_where_they_are():
    body = patient(nickname="Clairette", name=[{"family": "Martin", "middle": "Anne"}],
                   contained=[{"resourceType": "Practitioner", "speciality": "GP"}])
    error = invalid(body)
    assert paths(error) == ["Patient.contained[0].speciality", "Patient.name[0].middle", "Patient.nickname"]
    assert all(i.code == "structure" and "Unknown element" in i.diagnostics for i in error.issues)


@pytest.mark.parametrize("name", ["fhir_comments", "birthDate__ext", "_nickname", "resource_type"])
def test_names_fhir_resources_would_accept_but_fhir_does_not_are_unknown(name):
    issue = only_issue(invalid(patient(**{name: "x" if name != "birthDate__ext" else {"id": "a"}})))
    assert issue.expression == [f"Patient.{name}"]


def test_resource_type_inside_a_data_type_is_unknown():
    issue = only_issue(invalid(patient(maritalStatus={"resourceType": "CodeableConcept", "text": "marié"})))
    assert issue.expression == ["Patient.maritalStatus.resourceType"]


@pytest.mark.parametrize("element, value, expression", [
    ("active", "true", "Patient.active"),
    ("active", 1, "Patient.active"),
    ("multipleBirthInteger", "2", "Patient.multipleBirthInteger"),
    ("multipleBirthInteger", True, "Patient.multipleBirthInteger"),
    ("multipleBirthInteger", 2.5, "Patient.multipleBirthInteger"),
    ("multipleBirthInteger", 1.2345678901234568e+29, "Patient.multipleBirthInteger"),
    ("deceasedDateTime", 1, "Patient.deceasedDateTime"),
    ("maritalStatus", '{"text": "marié"}', "Patient.maritalStatus"),
    ("name", {"family": "Martin"}, "Patient.name"),
    ("managingOrganization", [{"reference": "Organization/o1"}], "Patient.managingOrganization"),
])
def test_json_values_of_the_wrong_type_are_refused_not_coerced(element, value, expression):
    issue = only_issue(invalid(patient(**{element: value})))
    assert issue.expression == [expression]
    assert issue.code == "structure"


def test_huge_numbers_are_refused():
    issue = only_issue(invalid(patient(multipleBirthInteger=10 ** 30)))
    assert issue.expression == ["Patient.multipleBirthInteger"]


def test_nulls_and_empty_arrays_and_objects_are_refused():
    body = patient(active=None, telecom=[], address=[{}], name=[None, {"family": "Martin", "given": None}])
    assert paths(invalid(body)) == ["Patient.active", "Patient.address[0]", "Patient.name[0]",
                                    "Patient.name[1].given", "Patient.telecom"]


def test_missing_required_elements_are_all_reported():
    error = invalid({"resourceType": "Observation", "valueString": "x"})
    assert paths(error) == ["Observation.code", "Observation.status"]
    assert {i.code for i in error.issues} == {"required"}


def test_an_id_longer_than_64_characters_is_refused():
    issue = only_issue(invalid(patient(id="a" * 65)))
    assert issue.expression == ["Patient.id"]


@pytest.mark.parametrize("contained, expression", [
    ({"resourceType": "Nope"}, "Patient.contained[0].resourceType"),
    ({"resourceType": 5}, "Patient.contained[0].resourceType"),
    ({"resourceType": "Resource"}, "Patient.contained[0].resourceType"),
    ({"resourceType": "HumanName", "family": "x"}, "Patient.contained[0].resourceType"),
    ({"family": "Martin"}, "Patient.contained[0].resourceType"),
    (5, "Patient.contained[0]"),
])
def test_a_contained_resource_needs_a_known_resource_type(contained, expression):
    issue = only_issue(invalid(patient(contained=[contained])))
    assert issue.expression == [expression]


def test_every_problem_is_reported_at_once():
    body = patient(gender="xx", birthDate="2020-13-45", nickname="C", active="yes",
                   name=[{"family": "Martin", "given": ["Claire", 5]}],
                   contact=[{"gender": "homme"}])
    error = invalid(body)
    assert paths(error) == ["Patient.active", "Patient.birthDate", "Patient.contact[0].gender",
                            "Patient.gender", "Patient.name[0].given[1]", "Patient.nickname"]
    outcome = error.outcome()
    assert outcome["resourceType"] == "OperationOutcome"
    assert all(i["severity"] == "error" and i["diagnostics"] and i["expression"] for i in outcome["issue"])
    assert "6 more" not in error.diagnostics and "5 more issues" in error.diagnostics


def test_deeply_nested_input_is_refused_without_crashing():
    extension = {"url": "http://example.org/leaf", "valueString": "x"}
    for _ in range(200):
        extension = {"url": "http://example.org/node", "extension": [extension]}
    issue = only_issue(invalid(patient(extension=[extension])))
    assert "nested more than" in issue.diagnostics


# --- nothing but FhirError, whatever the input ------------------------------------------------------

ODD_VALUES = [None, [], {}, [None], [[]], [{}], 0, -1, 1.5, 10 ** 30, 1e300, True, "", " ", "x" * 2000,
              "2020-13-45", {"resourceType": 5}, {"resourceType": "Nope"}, [{"resourceType": "Resource"}],
              {"a": {"b": None}}, {"extension": [{"url": 5}]}, [1, [2, [3]]], {"coding": [{"system": 5}]},
              {"coding": None}, {"_x": None}, {"resourceType": "Patient", "gender": "q"}]


def _node_paths(value, path=()):
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _node_paths(child, path + (key,))


def _mutate(body: dict, rng: random.Random) -> dict:
    for _ in range(rng.randint(1, 3)):
        path = rng.choice([p for p in _node_paths(body) if p])
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if rng.random() < 0.7:
            parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif isinstance(parent, dict):
            name = rng.choice(["foo", f"_{path[-1]}", "resourceType", "fhir_comments", "valueString", "id"])
            parent[name] = copy.deepcopy(rng.choice(ODD_VALUES))
    return body


def test_fuzzed_resources_only_ever_raise_fhir_errors():
    rng = random.Random(20241120)
    bases = valid_resources()
    if PDSM_EXAMPLES.is_dir():
        bases += [json.loads(p.read_bytes()) for p in pdsm_examples()]
    for _ in range(600):
        body = _mutate(copy.deepcopy(rng.choice(bases)), rng)
        try:
            validate_resource(body)
        except FhirError as error:
            assert error.status in (400, 422)
            assert all(issue.diagnostics for issue in error.issues)
            if error.status == 422:
                assert all(issue.expression for issue in error.issues)
