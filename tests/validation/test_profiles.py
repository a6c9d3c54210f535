"""The project profiles (profiles/): the seed data conforms, and each broken rule is a 422 naming its element."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from fhir_server.errors import Unprocessable
from fhir_server.validation import profiles
from fhir_server.validation.profiles import check_profile, profile_issues

from .. import factories

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
PDSM_EXAMPLES = SHARED / "ig" / "ans.fhir.fr.pdsm-3.1.1" / "example"
A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
R248 = "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/TRE-R248-ModeAcces"
CLASS = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
IDNPS = "urn:oid:1.2.250.1.71.4.2.1"


def seed_resources() -> list[dict]:
    return [entry["resource"] for path in sorted((REPO / "seed_data").glob("*.json"))
            for entry in json.loads(path.read_text(encoding="utf-8"))["entry"]]


def seed(resource_id: str) -> dict:
    return copy.deepcopy(next(r for r in seed_resources() if r["id"] == resource_id))


def refused(resource: dict) -> list:
    """The issues of the 422 check_profile raises."""
    with pytest.raises(Unprocessable) as caught:
        check_profile(resource)
    assert caught.value.status == 422
    return caught.value.issues


def only_issue(resource: dict):
    [issue] = refused(resource)
    assert issue.severity == "error"
    return issue


# --- good examples --------------------------------------------------------------------------------------------

def test_every_seed_resource_conforms_to_its_profile():
    failures = {f"{r['resourceType']}/{r['id']}": [i.diagnostics for i in profile_issues(r)] for r in seed_resources()}
    assert {ref: issues for ref, issues in failures.items() if issues} == {}


def test_the_seed_holds_examples_of_every_profile_but_the_server_written_audit_event():
    seeded = {r["resourceType"] for r in seed_resources()}
    assert profiles.profiled_types() - seeded == {"AuditEvent"}


def balp_patient_read(mode: str = "bris_de_glace") -> dict:
    """An AuditEvent as fhir_server/audit/balp.py writes it for a break-glass read."""
    def purpose():
        return [{"coding": [{"system": R248, "code": mode},
                            {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "BTG"}],
                 "text": "patient inconscient aux urgences"}]
    return {
        "resourceType": "AuditEvent",
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": "read"}],
        "action": "R", "recorded": "2026-11-22T10:00:00.000Z", "outcome": "0",
        "agent": [{"who": {"reference": "Practitioner/pra-emilie-roux"}, "requestor": True, "purposeOfUse": purpose()},
                  {"who": {"reference": "Device/dmp-fhir-server"}, "requestor": False}],
        "source": {"observer": {"reference": "Device/dmp-fhir-server"}},
        "entity": [{"what": {"reference": "Patient/pat-gerard-bonnet"}}],
        "purposeOfEvent": purpose(),
    }


@pytest.mark.parametrize("resource", [
    factories.patient(),
    factories.practitioner(),
    {"resourceType": "Practitioner", "identifier": [{"system": IDNPS, "value": "810003456789"}]},
    factories.organization(),
    factories.document_reference("Patient/pat-1", author="Practitioner/pra-1"),
    factories.document_reference("https://dmp.example/fhir/Patient/pat-1", author="Patient/pat-1",
                                 content=[{"attachment": {"contentType": "image/png", "data": "iVBORw0KGgo="}}]),
    balp_patient_read(),
], ids=["patient", "practitioner-rpps", "practitioner-idnatps", "organization", "document", "document-data",
        "audit-event"])
def test_good_examples_conform(resource):
    assert profile_issues(resource) == []


def test_types_without_a_profile_and_odd_input_give_no_issue():
    assert profile_issues({"resourceType": "Observation", "status": "final"}) == []
    assert profile_issues({"resourceType": "../../etc/passwd"}) == []
    assert profile_issues({"resourceType": ["Patient"]}) == []
    assert profile_issues([]) == []


# --- DocumentReference ----------------------------------------------------------------------------------------

def test_a_document_without_subject_is_a_422_naming_the_subject():
    document = seed("doc-claire-martin-cr-consultation-2026-09")
    del document["subject"]
    with pytest.raises(Unprocessable) as caught:
        check_profile(document)
    assert caught.value.status == 422
    assert caught.value.outcome() == {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": "required", "expression": ["DocumentReference.subject"],
        "diagnostics": "DocumentReference.subject: missing; DmpDocumentReference requires it "
                       "(The patient the document is about)"}]}


def test_an_unknown_visibility_code_names_the_security_label_coding():
    document = seed("doc-claire-martin-cr-consultation-gynecologie-2026-05")
    assert document["securityLabel"][1]["coding"][0] == {"system": A07, "code": "MASQUE_PS",
                                                         "display": "Masqué aux professionnels de santé"}
    document["securityLabel"][1]["coding"][0]["code"] = "SECRET"
    issue = only_issue(document)
    assert (issue.code, issue.expression) == ("code-invalid", ["DocumentReference.securityLabel[1].coding[0].code"])
    assert issue.diagnostics == ("DocumentReference.securityLabel[1].coding[0].code: 'SECRET' is not a DMP visibility "
                                 "code (MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX)")


@pytest.mark.parametrize("coding, expression, words", [
    ({"system": CONFIDENTIALITY, "code": "U"}, "DocumentReference.securityLabel[0].coding[0].code",
     "'U' is not a v3-Confidentiality code (N, R, V)"),
    # a misspelled system would be a label the access policy silently ignores (PDSm's own example has one)
    ({"system": A07.replace("Statut", "Status"), "code": "MASQUE_PS"}, "DocumentReference.securityLabel[0].coding",
     "needs a coding from DMP security labels"),
    ({"system": A07, "code": "MASQUE_PSOCIAL"}, "DocumentReference.securityLabel[0].coding[0].code",
     "'MASQUE_PSOCIAL' is not a DMP visibility code"),
])
def test_security_labels_hold_only_codes_the_server_enforces(coding, expression, words):
    document = factories.document_reference("Patient/pat-1", author="Practitioner/pra-1",
                                            securityLabel=[{"coding": [coding]}])
    issue = only_issue(document)
    assert (issue.code, issue.expression) == ("code-invalid", [expression])
    assert words in issue.diagnostics


@pytest.mark.parametrize("change, code, expression", [
    (lambda d: d.pop("category"), "required", "DocumentReference.category"),
    (lambda d: d["category"][0]["coding"][0].update(code="99"), "code-invalid",
     "DocumentReference.category[0].coding[0].code"),
    (lambda d: d["category"][0].update(coding=[{"system": "http://loinc.org", "code": "11488-4"}]), "code-invalid",
     "DocumentReference.category[0].coding"),
    (lambda d: d["category"].append(copy.deepcopy(d["category"][0])), "invariant", "DocumentReference.category"),
    (lambda d: d.pop("type"), "required", "DocumentReference.type"),
    (lambda d: d["type"].pop("coding"), "required", "DocumentReference.type.coding"),
    (lambda d: d.pop("author"), "required", "DocumentReference.author"),
    (lambda d: d["subject"].update(reference="Practitioner/pra-1"), "invariant", "DocumentReference.subject.reference"),
    (lambda d: d["subject"].pop("reference"), "required", "DocumentReference.subject.reference"),
    (lambda d: d["content"][0]["attachment"].pop("url"), "invariant", "DocumentReference.content[0].attachment"),
    (lambda d: d["content"][0]["attachment"].pop("contentType"), "required",
     "DocumentReference.content[0].attachment.contentType"),
])
def test_document_rules(change, code, expression):
    document = factories.document_reference("Patient/pat-1", author="Practitioner/pra-1")
    change(document)
    issue = only_issue(document)
    assert (issue.code, issue.expression) == (code, [expression])
    assert issue.diagnostics.startswith(expression + ": ")


def test_every_issue_is_reported_at_once():
    document = seed("doc-claire-martin-cr-consultation-gynecologie-2026-05")
    del document["subject"], document["author"]
    document["category"][0]["coding"][0]["code"] = "99"
    document["securityLabel"][1]["coding"][0]["code"] = "SECRET"
    assert sorted((i.code, i.expression[0]) for i in refused(document)) == [
        ("code-invalid", "DocumentReference.category[0].coding[0].code"),
        ("code-invalid", "DocumentReference.securityLabel[1].coding[0].code"),
        ("required", "DocumentReference.author"),
        ("required", "DocumentReference.subject")]


# --- Patient, Practitioner, Organization -----------------------------------------------------------------------

def test_a_patient_without_ins_is_refused():
    patient = factories.patient(identifier=[{"system": "urn:oid:1.2.250.1.71.4.2.7", "value": "IPP-0042"}])
    issue = only_issue(patient)
    assert (issue.code, issue.expression) == ("invariant", ["Patient.identifier"])
    assert "At least one INS identifier" in issue.diagnostics and "urn:oid:1.2.250.1.213.1.4.8" in issue.diagnostics
    del patient["identifier"]
    assert only_issue(patient).expression == ["Patient.identifier"]


@pytest.mark.parametrize("system", ["urn:oid:1.2.250.1.213.1.4.8", "urn:oid:1.2.250.1.213.1.4.9",
                                    "urn:oid:1.2.250.1.213.1.4.10", "urn:oid:1.2.250.1.213.1.4.11"])
def test_each_ins_system_is_accepted(system):
    assert profile_issues(factories.patient(identifier=[{"system": system, "value": "279035121518989"}])) == []


def test_the_dmp_status_must_be_actif_or_ferme():
    patient = seed("pat-monique-renard")
    assert patient["extension"][1]["extension"][0] == {"url": "status", "valueCode": "FERME"}
    patient["extension"][1]["extension"][0]["valueCode"] = "CLOSED"
    issue = only_issue(patient)
    assert (issue.code, issue.expression) == ("code-invalid", ["Patient.extension[1].extension[0].valueCode"])
    assert "'CLOSED' is not a DMP status code (ACTIF, FERME)" in issue.diagnostics
    del patient["extension"][1]["extension"][0]
    assert [(i.code, i.expression) for i in refused(patient)] == [("required", ["Patient.extension[1].extension"])]


def test_a_practitioner_without_rpps_or_idnatps_is_refused():
    adeli = {"resourceType": "Practitioner", "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1.3", "value": "1"}]}
    issue = only_issue(adeli)
    assert (issue.code, issue.expression) == ("invariant", ["Practitioner.identifier"])
    assert "RPPS (https://rpps.esante.gouv.fr) or idNatPs (urn:oid:1.2.250.1.71.4.2.1)" in issue.diagnostics


def test_an_organization_needs_finess_or_idnatst_and_the_insurer_idnatst_from_a_siret_counts():
    assert seed("org-cpam-rhone")["identifier"][0]["value"].startswith("3")
    assert profile_issues(seed("org-cpam-rhone")) == []
    siren_only = {"resourceType": "Organization", "identifier": [{"system": "https://sirene.fr", "value": "264403106"}]}
    assert only_issue(siren_only).expression == ["Organization.identifier"]


# --- Consent, Communication, AuditEvent --------------------------------------------------------------------------

@pytest.mark.parametrize("change, code, expression", [
    (lambda c: c.pop("patient"), "required", "Consent.patient"),
    (lambda c: c["patient"].update(reference="RelatedPerson/rp-1"), "invariant", "Consent.patient.reference"),
    (lambda c: c["provision"].pop("type"), "required", "Consent.provision.type"),
    (lambda c: c["provision"].pop("actor"), "invariant", "Consent.provision"),
    (lambda c: c["provision"]["actor"][0]["reference"].update(reference="Patient/pat-2"), "invariant",
     "Consent.provision.actor[0].reference.reference"),
])
def test_consent_rules(change, code, expression):
    block = seed("cns-sophie-bernard-opposition-girard")
    change(block)
    issue = only_issue(block)
    assert (issue.code, issue.expression) == (code, [expression])


def test_an_objection_names_a_known_emergency_mode():
    objection = seed("cns-michel-fournier-opposition-bris-de-glace")
    assert "actor" not in objection["provision"]
    objection["provision"]["purpose"][0]["code"] = "urgence"
    issue = only_issue(objection)
    assert (issue.code, issue.expression) == ("code-invalid", ["Consent.provision.purpose[0].code"])
    assert "(normal, bris_de_glace, centre_15)" in issue.diagnostics


@pytest.mark.parametrize("element", ["subject", "sender", "recipient", "payload"])
def test_a_message_needs_its_patient_sender_recipient_and_text(element):
    message = seed("com-amelie-dubois-2026-10-reponse")
    del message[element]
    assert only_issue(message).expression == [f"Communication.{element}"]


def test_an_audit_event_says_who_and_in_which_access_mode():
    event = balp_patient_read()
    del event["agent"][0]["who"]
    event["purposeOfEvent"][0]["coding"][0]["code"] = "urgence"
    assert sorted((i.code, i.expression[0]) for i in refused(event)) == [
        ("code-invalid", "AuditEvent.purposeOfEvent[0].coding[0].code"),
        ("required", "AuditEvent.agent[0].who")]


# --- the ANS PDSm examples ---------------------------------------------------------------------------------------

@pytest.mark.skipif(not PDSM_EXAMPLES.is_dir(), reason="shared/ig is not beside the repository")
def test_pdsm_examples_conform_except_where_they_break_a_dmp_rule():
    def load(name):
        return json.loads((PDSM_EXAMPLES / name).read_text(encoding="utf-8"))
    comprehensive = load("DocumentReference-exemple-pdsm-documentreference.json")
    assert profile_issues(load("DocumentReference-PDSmSimplifiedExample.json")) == []
    assert profile_issues(load("Organization-org-example.json")) == []
    assert profile_issues(comprehensive["contained"][0]) == []  # a Practitioner with RPPS and idNatPs
    # its only label claims code N in a misspelled TRE_A07 system ("Status"): the policy would not see it
    assert [i.expression for i in profile_issues(comprehensive)] == [["DocumentReference.securityLabel[0].coding"]]
    # a PDSm patient need not carry an INS; a DMP holder must
    assert [i.expression for i in profile_issues(load("Patient-fr-patient-123.json"))] == [["Patient.identifier"]]


# --- the schemas, their generator and the fast path ---------------------------------------------------------------

def load_generator():
    spec = importlib.util.spec_from_file_location("gen_profile_schemas", REPO / "scripts" / "gen_profile_schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (SHARED / "fhir-r4" / "fhir.schema.json").is_file(), reason="shared/fhir-r4 is missing")
def test_the_checked_in_schemas_are_generated_from_the_structure_definitions():
    generator = load_generator()
    fhir_schema = json.loads((SHARED / "fhir-r4" / "fhir.schema.json").read_text(encoding="utf-8"))
    generated = generator.Generator(fhir_schema).resource_schemas()
    assert generated == published_schemas(), "run python scripts/gen_profile_schemas.py"


def published_schemas() -> dict[str, dict]:
    return {p.name.removesuffix(".schema.json"): json.loads(p.read_text(encoding="utf-8"))
            for p in (REPO / "profiles" / "schemas").glob("*.schema.json")}


def test_the_server_loads_the_published_schemas_and_they_are_valid_draft_2020_12():
    assert profiles.schemas() == published_schemas()  # definitions/profile-schemas.json, the package copy
    for schema in published_schemas().values():
        Draft202012Validator.check_schema(schema)


def mutations(resource, path=()):
    """The resource with each element removed in turn and each string replaced by an unknown value."""
    children = resource.items() if isinstance(resource, dict) else enumerate(resource)
    for key, value in list(children):
        if isinstance(resource, dict):
            yield path + (key,), None
        if isinstance(value, str):
            yield path + (key,), "XX-unknown"
        elif isinstance(value, (dict, list)):
            yield from mutations(value, path + (key,))


def mutated(resource: dict, path: tuple, value) -> dict:
    copied = copy.deepcopy(resource)
    parent = copied
    for key in path[:-1]:
        parent = parent[key]
    if value is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copied


def test_the_fast_path_agrees_with_jsonschema():
    """profile_issues trusts compile_predicate when it says valid: it must never pass what jsonschema refuses."""
    samples = [r for r in seed_resources() if r["resourceType"] in profiles.profiled_types()]
    samples = [samples[i] for i in range(0, len(samples), 7)] + [balp_patient_read()]
    checked = 0
    for resource in samples:
        schema = profiles.schemas()[resource["resourceType"]]
        fast, slow = profiles.compile_predicate(schema), Draft202012Validator(schema)
        for path, value in mutations(resource):
            candidate = mutated(resource, path, value)
            assert fast(candidate) == slow.is_valid(candidate), (resource["id"], path, value)
            checked += 1
    assert checked > 1000


def test_the_fast_path_refuses_keywords_it_does_not_know():
    with pytest.raises(ValueError, match="minItems"):
        profiles.compile_predicate({"properties": {"author": {"minItems": 2}}})
