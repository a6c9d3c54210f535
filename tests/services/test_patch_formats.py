"""JSON Patch and FHIRPath Patch: results, error classes, and no mutation of the inputs."""

import copy

import pytest

from fhir_server.errors import BadRequest, FhirError, Unprocessable
from fhir_server.services.patch_formats import apply_fhirpath_patch, apply_json_patch

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": "urn:a", "value": "1"}, {"system": "urn:b", "value": "2"}],
    "name": [{"family": "Durand", "given": ["Anne", "Marie"]}],
    "telecom": [{"system": "phone", "value": "0102"}, {"system": "email", "value": "a@b.fr"}],
    "birthDate": "1970-01-01",
    "_birthDate": {"id": "bd"},
    "deceasedBoolean": False,
    "extension": [{"url": "http://x/ext", "valueString": "ev"}],
}

DOCREF = {
    "resourceType": "DocumentReference",
    "id": "d1",
    "status": "current",
    "securityLabel": [
        {"coding": [{"system": "urn:lbl", "code": "MASQUE_PS"}]},
        {"coding": [{"system": "urn:lbl", "code": "N"}]},
    ],
    "content": [{"attachment": {"contentType": "text/plain"}}],
}


def expected(base, **changes):
    """`base` with top-level `changes` (a value of None removes the key)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def operation(type_, path, *, name=None, value=None, index=None, source=None, destination=None):
    """One `operation` parameter; `value` is a dict of value[x] or {'part': [...]}."""
    parts = [{"name": "type", "valueCode": type_}, {"name": "path", "valueString": path}]
    if name is not None:
        parts.append({"name": "name", "valueString": name})
    if value is not None:
        parts.append({"name": "value", **value})
    for part_name, number in (("index", index), ("source", source), ("destination", destination)):
        if number is not None:
            parts.append({"name": part_name, "valueInteger": number})
    return {"name": "operation", "part": parts}


def params(*operations):
    return {"resourceType": "Parameters", "parameter": list(operations)}


def fhirpatch(resource, *operations):
    """Apply, and check neither input was touched."""
    before, body = copy.deepcopy(resource), params(*operations)
    body_before = copy.deepcopy(body)
    result = apply_fhirpath_patch(resource, body)
    assert resource == before and body == body_before
    assert result is not resource
    return result


def raises(exc_type, func, *args):
    with pytest.raises(FhirError) as info:
        func(*args)
    assert type(info.value) is exc_type, info.value.diagnostics
    return info.value


def expression(error):
    return error.issues[0].expression


# ------------------------------------------------------------------------- JSON Patch

def test_json_patch_add_replace_remove():
    patch = [
        {"op": "replace", "path": "/birthDate", "value": "1980-02-02"},
        {"op": "add", "path": "/identifier/-", "value": {"system": "urn:c", "value": "3"}},
        {"op": "remove", "path": "/telecom/1"},
        {"op": "test", "path": "/name/0/family", "value": "Durand"},
    ]
    before = copy.deepcopy(PATIENT)
    result = apply_json_patch(PATIENT, patch)
    assert PATIENT == before
    assert result == expected(
        PATIENT, birthDate="1980-02-02",
        identifier=PATIENT["identifier"] + [{"system": "urn:c", "value": "3"}],
        telecom=PATIENT["telecom"][:1])


def test_json_patch_result_does_not_alias_the_patch():
    patch = [{"op": "add", "path": "/maritalStatus", "value": {"text": "M"}}]
    result = apply_json_patch(PATIENT, patch)
    result["maritalStatus"]["text"] = "changed"
    assert patch[0]["value"] == {"text": "M"}


@pytest.mark.parametrize("patch", [
    {"op": "add", "path": "/gender", "value": "male"},                  # not a list
    ["add"],                                                            # not objects
    [{"op": "frobnicate", "path": "/gender"}],                          # unknown op
    [{"op": "add", "value": "male"}],                                   # no path
    [{"path": "/gender", "value": "male"}],                             # no op
    [{"op": "add", "path": "gender", "value": "male"}],                 # not a pointer
    [{"op": "add", "path": "/gender"}],                                 # no value
    [{"op": "move", "path": "/gender"}],                                # no from
    [{"op": "move", "from": 5, "path": "/gender"}],                     # from not a pointer
])
def test_json_patch_malformed_is_400(patch):
    raises(BadRequest, apply_json_patch, PATIENT, patch)


def test_json_patch_malformed_op_wins_over_an_earlier_failing_one():
    patch = [{"op": "remove", "path": "/gender"}, {"op": "bogus", "path": "/x"}]
    raises(BadRequest, apply_json_patch, PATIENT, patch)


def test_json_patch_failed_test_is_422_naming_op_and_path():
    error = raises(Unprocessable, apply_json_patch, PATIENT,
                   [{"op": "test", "path": "/birthDate", "value": "2000-01-01"}])
    assert "'test'" in error.diagnostics and "/birthDate" in error.diagnostics


@pytest.mark.parametrize("op", [
    {"op": "remove", "path": "/gender"},
    {"op": "replace", "path": "/gender", "value": "male"},
    {"op": "add", "path": "/name/7", "value": {}},
    {"op": "add", "path": "/birthDate/x", "value": 1},
    {"op": "move", "from": "/nothing", "path": "/gender"},
])
def test_json_patch_missing_target_is_422_naming_op_and_path(op):
    error = raises(Unprocessable, apply_json_patch, PATIENT, [op])
    assert repr(op["op"]) in error.diagnostics and repr(op["path"]) in error.diagnostics


@pytest.mark.parametrize("op", [
    {"op": "replace", "path": "/id", "value": "other"},
    {"op": "remove", "path": "/id"},
    {"op": "replace", "path": "/resourceType", "value": "Group"},
    {"op": "replace", "path": "", "value": ["not", "a", "resource"]},
])
def test_json_patch_may_not_change_identity(op):
    raises(BadRequest, apply_json_patch, PATIENT, [op])


# ------------------------------------------------------------- FHIRPath Patch: spec examples

def test_spec_add_birth_date():
    patient = expected(PATIENT, birthDate=None, _birthDate=None)
    result = fhirpatch(patient, operation("add", "Patient", name="birthDate",
                                          value={"valueDate": "1930-01-01"}))
    assert result == expected(patient, birthDate="1930-01-01")


def test_spec_add_contact_given_as_parts():
    value = {"part": [{"name": "name", "valueHumanName": {"text": "a name"}}]}
    result = fhirpatch(PATIENT, operation("add", "Patient", name="contact", value=value))
    assert result == expected(PATIENT, contact=[{"name": {"text": "a name"}}])


def test_spec_insert_identifier():
    value = {"valueIdentifier": {"system": "http://example.org", "value": "value 3"}}
    result = fhirpatch(PATIENT, operation("insert", "Patient.identifier", index=0, value=value))
    assert result["identifier"] == [value["valueIdentifier"]] + PATIENT["identifier"]


def test_spec_delete_identifier():
    result = fhirpatch(PATIENT, operation("delete", "Patient.identifier[0]"))
    assert result == expected(PATIENT, identifier=PATIENT["identifier"][1:])


def test_spec_replace_birth_date():
    result = fhirpatch(PATIENT, operation("replace", "Patient.birthDate",
                                          value={"valueDate": "1930-01-01"}))
    assert result == expected(PATIENT, birthDate="1930-01-01")


def test_spec_move_identifier():
    result = fhirpatch(PATIENT, operation("move", "Patient.identifier", source=0, destination=1))
    assert result == expected(PATIENT, identifier=PATIENT["identifier"][::-1])


# ------------------------------------------------------------------ FHIRPath Patch: add

def test_add_appends_to_an_existing_list():
    result = fhirpatch(PATIENT, operation("add", "Patient.name[0]", name="given",
                                          value={"valueString": "Zoé"}))
    assert result["name"] == [{"family": "Durand", "given": ["Anne", "Marie", "Zoé"]}]


def test_add_creates_a_list_for_a_repeating_element():
    patient = expected(PATIENT, identifier=None)
    value = {"part": [{"name": "system", "valueUri": "urn:x"}, {"name": "value", "valueString": "9"}]}
    result = fhirpatch(patient, operation("add", "Patient", name="identifier", value=value))
    assert result == expected(patient, identifier=[{"system": "urn:x", "value": "9"}])


def test_add_parts_follow_the_model_for_nested_lists_and_choices():
    value = {"part": [
        {"name": "name", "valueHumanName": {"family": "Petit"}},
        {"name": "telecom", "valueContactPoint": {"system": "phone", "value": "06"}},
        {"name": "relationship", "part": [{"name": "text", "valueString": "mère"}]},
    ]}
    result = fhirpatch(PATIENT, operation("add", "Patient", name="contact", value=value))
    assert result["contact"] == [{
        "name": {"family": "Petit"},
        "telecom": [{"system": "phone", "value": "06"}],
        "relationship": [{"text": "mère"}],
    }]


def test_add_choice_element_takes_the_type_suffix():
    patient = expected(PATIENT, deceasedBoolean=None)
    result = fhirpatch(patient, operation("add", "Patient", name="deceased",
                                          value={"valueDateTime": "2020-05-05"}))
    assert result == expected(patient, deceasedDateTime="2020-05-05")


def test_add_on_a_selected_element():
    result = fhirpatch(PATIENT, operation("add", "Patient.identifier.where(system='urn:b')",
                                          name="use", value={"valueCode": "official"}))
    assert result["identifier"][1] == {"system": "urn:b", "value": "2", "use": "official"}


def test_add_existing_non_repeating_element_is_422():
    error = raises(Unprocessable, apply_fhirpath_patch, PATIENT,
                   params(operation("add", "Patient", name="birthDate", value={"valueDate": "2000"})))
    assert expression(error) == ["Patient"]


def test_add_needs_exactly_one_container():
    path = "Patient.telecom"
    error = raises(Unprocessable, apply_fhirpath_patch, PATIENT,
                   params(operation("add", path, name="use", value={"valueCode": "home"})))
    assert expression(error) == [path]


def test_add_id_is_400():
    patient = expected(PATIENT, id=None)
    raises(BadRequest, apply_fhirpath_patch, patient,
           params(operation("add", "Patient", name="id", value={"valueId": "x"})))


def test_add_inside_a_contained_resource_uses_its_model():
    patient = {"resourceType": "Patient", "id": "p",
               "contained": [{"resourceType": "Organization", "id": "o", "name": "O"}]}
    result = fhirpatch(patient, operation("add", "Patient.contained.where(id='o')", name="telecom",
                                          value={"valueContactPoint": {"value": "01"}}))
    assert result["contained"][0]["telecom"] == [{"value": "01"}]  # Organization.telecom repeats


def test_add_backbone_parts_with_a_choice_element():
    observation = {"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"}}
    value = {"part": [{"name": "code", "valueCodeableConcept": {"text": "c"}},
                      {"name": "value", "valueQuantity": {"value": 1}}]}
    result = fhirpatch(observation, operation("add", "Observation", name="component", value=value))
    assert result["component"] == [{"code": {"text": "c"}, "valueQuantity": {"value": 1}}]


# --------------------------------------------------------------- FHIRPath Patch: insert

def test_insert_into_a_primitive_list():
    result = fhirpatch(PATIENT, operation("insert", "Patient.name[0].given", index=1,
                                          value={"valueString": "Zoé"}))
    assert result["name"][0]["given"] == ["Anne", "Zoé", "Marie"]


def test_insert_creates_an_absent_list():
    value = {"part": [{"name": "city", "valueString": "Paris"}, {"name": "line", "valueString": "1 rue"}]}
    result = fhirpatch(PATIENT, operation("insert", "Patient.address", index=0, value=value))
    assert result == expected(PATIENT, address=[{"city": "Paris", "line": ["1 rue"]}])


@pytest.mark.parametrize("path,index", [
    ("Patient.identifier", 3),         # past the end
    ("Patient.identifier", -1),
    ("Patient.birthDate", 0),          # not a list
    ("Patient.gender", 0),             # absent and not repeating
    ("Patient.identifier.where(system='urn:a')", 0),  # not a list path
])
def test_insert_errors_are_422_with_the_path(path, index):
    error = raises(Unprocessable, apply_fhirpath_patch, PATIENT,
                   params(operation("insert", path, index=index, value={"valueString": "x"})))
    assert expression(error) == [path]


# --------------------------------------------------------------- FHIRPath Patch: delete

def test_delete_by_where():
    result = fhirpatch(PATIENT, operation("delete", "Patient.identifier.where(system='urn:a')"))
    assert result == expected(PATIENT, identifier=PATIENT["identifier"][1:])


def test_delete_primitive_inside_a_selected_element():
    result = fhirpatch(PATIENT, operation("delete", "Patient.telecom.where(system='phone').value"))
    assert result["telecom"] == [{"system": "phone"}, PATIENT["telecom"][1]]


def test_delete_primitive_takes_its_extension_twin_along():
    result = fhirpatch(PATIENT, operation("delete", "Patient.birthDate"))
    assert result == expected(PATIENT, birthDate=None, _birthDate=None)


def test_delete_security_label():
    result = fhirpatch(DOCREF, operation(
        "delete", "DocumentReference.securityLabel.where(coding.code='MASQUE_PS')"))
    assert result == expected(DOCREF, securityLabel=DOCREF["securityLabel"][1:])


def test_delete_last_item_removes_the_list():
    patient = expected(PATIENT, extension=[{"url": "http://x/ext", "valueString": "ev"}])
    result = fhirpatch(patient, operation("delete", "Patient.extension('http://x/ext')"))
    assert result == expected(patient, extension=None)


def test_delete_nothing_is_a_no_op():
    result = fhirpatch(PATIENT, operation("delete", "Patient.identifier.where(system='urn:none')"))
    assert result == PATIENT


def test_delete_several_is_422():
    error = raises(Unprocessable, apply_fhirpath_patch, PATIENT,
                   params(operation("delete", "Patient.name.given")))
    assert expression(error) == ["Patient.name.given"]


@pytest.mark.parametrize("path", ["Patient.id", "Patient"])
def test_delete_identity_is_400(path):
    raises(BadRequest, apply_fhirpath_patch, PATIENT, params(operation("delete", path)))


# -------------------------------------------------------------- FHIRPath Patch: replace

def test_replace_selected_element_given_as_parts():
    value = {"part": [{"name": "system", "valueUri": "urn:z"}, {"name": "value", "valueString": "9"}]}
    result = fhirpatch(PATIENT, operation("replace", "Patient.identifier.where(system='urn:b')",
                                          value=value))
    assert result["identifier"] == [PATIENT["identifier"][0], {"system": "urn:z", "value": "9"}]


def test_replace_primitive_inside_a_selected_element():
    result = fhirpatch(PATIENT, operation("replace", "Patient.telecom.where(system='phone').value",
                                          value={"valueString": "0999"}))
    assert result["telecom"][0] == {"system": "phone", "value": "0999"}


def test_replace_list_item():
    result = fhirpatch(PATIENT, operation("replace", "Patient.name[0].given[1]",
                                          value={"valueString": "Claire"}))
    assert result["name"][0]["given"] == ["Anne", "Claire"]


def test_replace_choice_element_changes_type():
    result = fhirpatch(PATIENT, operation("replace", "Patient.deceased",
                                          value={"valueDateTime": "2021-01-01"}))
    assert result == expected(PATIENT, deceasedBoolean=None, deceasedDateTime="2021-01-01")


def test_replace_extension_value():
    result = fhirpatch(PATIENT, operation("replace", "Patient.extension('http://x/ext').value",
                                          value={"valueString": "new"}))
    assert result["extension"] == [{"url": "http://x/ext", "valueString": "new"}]


def test_replace_complex_with_value_type():
    value = {"valueCodeableConcept": {"coding": [{"system": "urn:lbl", "code": "R"}]}}
    result = fhirpatch(DOCREF, operation(
        "replace", "DocumentReference.securityLabel.where(coding.code='N')", value=value))
    assert result["securityLabel"] == [DOCREF["securityLabel"][0], value["valueCodeableConcept"]]


@pytest.mark.parametrize("path", ["Patient.gender", "Patient.telecom"])
def test_replace_needs_exactly_one_element(path):
    error = raises(Unprocessable, apply_fhirpath_patch, PATIENT,
                   params(operation("replace", path, value={"valueCode": "x"})))
    assert expression(error) == [path]


def test_replace_id_is_400():
    error = raises(BadRequest, apply_fhirpath_patch, PATIENT,
                   params(operation("replace", "Patient.id", value={"valueId": "p2"})))
    assert expression(error) == ["Patient.id"]


# ----------------------------------------------------------------- FHIRPath Patch: move

def test_move_within_a_primitive_list():
    result = fhirpatch(PATIENT, operation("move", "Patient.name[0].given", source=1, destination=0))
    assert result["name"][0]["given"] == ["Marie", "Anne"]


@pytest.mark.parametrize("source,destination", [(0, 2), (5, 0), (-1, 0)])
def test_move_out_of_range_is_422(source, destination):
    error = raises(Unprocessable, apply_fhirpath_patch, PATIENT, params(
        operation("move", "Patient.identifier", source=source, destination=destination)))
    assert expression(error) == ["Patient.identifier"]


# ------------------------------------------------------- FHIRPath Patch: several and errors

def test_operations_apply_in_order():
    result = fhirpatch(
        PATIENT,
        operation("add", "Patient", name="gender", value={"valueCode": "female"}),
        operation("replace", "Patient.gender", value={"valueCode": "other"}),
        operation("delete", "Patient.telecom[1]"),
    )
    assert result == expected(PATIENT, gender="other", telecom=PATIENT["telecom"][:1])


def test_empty_parameters_returns_an_equal_copy():
    result = fhirpatch(PATIENT)
    assert result == PATIENT and result is not PATIENT


def test_result_does_not_alias_the_parameters():
    body = params(operation("add", "Patient", name="maritalStatus", value={"valueCodeableConcept": {"text": "M"}}))
    result = apply_fhirpath_patch(PATIENT, body)
    result["maritalStatus"]["text"] = "changed"
    assert body["parameter"][0]["part"][3]["valueCodeableConcept"] == {"text": "M"}


def _part(name, **value):
    return {"name": name, **value}


@pytest.mark.parametrize("body", [
    None,
    [],
    {"resourceType": "Patient"},
    {"resourceType": "Parameters", "parameter": {"name": "operation"}},
    {"resourceType": "Parameters", "parameter": [{"name": "op", "part": []}]},
    {"resourceType": "Parameters", "parameter": [{"name": "operation"}]},
    params(operation("upsert", "Patient")),
    params({"name": "operation", "part": [_part("type", valueCode="delete")]}),                # no path
    params(operation("add", "Patient", name="gender")),                                       # no value
    params(operation("add", "Patient", value={"valueCode": "male"})),                         # no name
    params(operation("insert", "Patient.identifier", value={"valueString": "x"})),            # no index
    params(operation("move", "Patient.identifier", source=0)),                               # no destination
    params(operation("replace", "Patient.gender", value={"valueCode": "x", "valueString": "y"})),
    params(operation("replace", "Patient.gender", value={"part": []})),
    params(operation("replace", "Patient.name[0]", value={"part": [{"valueString": "no name"}]})),
    params({"name": "operation", "part": [_part("type", valueCode="delete"),
                                          _part("path", valueString="Patient.id"),
                                          _part("colour", valueString="red")]}),             # unknown part
    params({"name": "operation", "part": [_part("type", valueCode="insert"),
                                          _part("path", valueString="Patient.identifier"),
                                          _part("index", valueString="0"),
                                          _part("value", valueString="x")]}),                # index not integer
])
def test_malformed_parameters_are_400(body):
    raises(BadRequest, apply_fhirpath_patch, PATIENT, body)


@pytest.mark.parametrize("path", ["Patient..name", "Patient.name.where(", "Patient.name )", "$$$"])
def test_invalid_fhirpath_is_400_with_the_path(path):
    error = raises(BadRequest, apply_fhirpath_patch, PATIENT, params(operation("delete", path)))
    assert expression(error) == [path]


@pytest.mark.parametrize("path", ["Patient.name.count()", "Patient.managingOrganization.resolve()"])
def test_path_not_selecting_resource_elements_is_422(path):
    error = raises(Unprocessable, apply_fhirpath_patch, PATIENT, params(operation("delete", path)))
    assert expression(error) == [path]


@pytest.mark.parametrize("resource", [None, "Patient", ["Patient"]])
def test_non_object_resource_is_a_fhir_error(resource):
    with pytest.raises(FhirError):
        apply_fhirpath_patch(resource, params())
    with pytest.raises(FhirError):
        apply_json_patch(resource, [])
