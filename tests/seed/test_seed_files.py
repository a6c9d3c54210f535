"""The seed data set (seed_data/*.json): valid FHIR, loadable, consistent, and telling the stories of its README.

"Today" for the stories is 2026-11-22 (ages, expired authorisations, documents hidden for at most a month).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import importlib.util
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = ROOT / "seed_data"
REQUIRED_VALUESETS = ROOT / "fhir_server" / "definitions" / "valuesets-required.json"
TODAY = dt.date(2026, 11, 22)

ALLOWED_TYPES = {
    "Patient", "Practitioner", "PractitionerRole", "Organization", "RelatedPerson", "CareTeam",
    "DocumentReference", "Binary", "List", "Consent", "Communication", "Provenance", "Appointment",
    "QuestionnaireResponse", "Observation",
}
EXPECTED_FILES = ["01-organizations.json", "02-practitioners.json", "03-patients.json",
                  "04-relationships.json", "05-documents.json", "06-messages.json"]

INS_OID_PREFIX = "urn:oid:1.2.250.1.213.1.4."
OID_INS_NIR_TEST = "urn:oid:1.2.250.1.213.1.4.10"
CS_FR_V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
SYS_RPPS = "https://rpps.esante.gouv.fr"
SYS_IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
SYS_FINESS = "https://finess.esante.gouv.fr"
SYS_IDNST = "urn:oid:1.2.250.1.71.4.2.2"
CS_A03 = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
CS_A05 = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
CS_A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
CS_R248 = "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/TRE-R248-ModeAcces"
CS_R38 = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
CS_G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
CS_R02 = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
CS_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
CS_ORG_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
EXT_DMP_STATUS = "https://dmp-fhir-server.example/fhir/StructureDefinition/dmp-status"
LEGAL_REPRESENTATIVE_CODES = {"MTH", "FTH", "PRN", "GUARD"}
ALL_A03_CLASSES = {"10", "11", "31", "42", "43", "44", "45", "52", "60", "90", "95"}

# Elements of our resource types with a *required* binding on a `code`, from the R4 (4.0.1)
# StructureDefinitions (shared/fhir-r4/structure-definitions.json, binding.strength == "required");
# the value sets themselves come from fhir_server/definitions/valuesets-required.json.
REQUIRED_CODE_BINDINGS = {
    "Appointment.status": "appointmentstatus",
    "Appointment.participant.required": "participantrequired",
    "Appointment.participant.status": "participationstatus",
    "CareTeam.status": "care-team-status",
    "Communication.status": "event-status",
    "Communication.priority": "request-priority",
    "Consent.status": "consent-state-codes",
    "Consent.provision.type": "consent-provision-type",
    "Consent.provision.data.meaning": "consent-data-meaning",
    "DocumentReference.status": "document-reference-status",
    "DocumentReference.docStatus": "composition-status",
    "DocumentReference.relatesTo.code": "document-relationship-type",
    "List.status": "list-status",
    "List.mode": "list-mode",
    "Observation.status": "observation-status",
    "Patient.gender": "administrative-gender",
    "Patient.contact.gender": "administrative-gender",
    "Patient.link.type": "link-type",
    "Practitioner.gender": "administrative-gender",
    "PractitionerRole.availableTime.daysOfWeek": "days-of-week",
    "Provenance.entity.role": "provenance-entity-role",
    "QuestionnaireResponse.status": "questionnaire-answers-status",
    "RelatedPerson.gender": "administrative-gender",
}
# bound to BCP-13 (urn:ietf:bcp:13, not enumerable): checked against the media-type grammar
MIME_TYPE_ELEMENTS = ["Binary.contentType", "DocumentReference.content.attachment.contentType",
                      "Communication.payload.contentAttachment.contentType"]
MIME_TYPE = re.compile(r"^[a-z]+/[a-z0-9][a-z0-9.+-]*(\s*;\s*[a-z-]+=[^;]+)*$")
RELATIVE_REFERENCE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


# ---------------------------------------------------------------- loading
@cache
def seed_files() -> tuple[Path, ...]:
    return tuple(sorted(SEED_DIR.glob("[0-9][0-9]-*.json")))


@cache
def bundle(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def entries() -> list[tuple[Path, dict]]:
    return [(p, e) for p in seed_files() for e in bundle(p).get("entry", [])]


@cache
def resources() -> dict[str, dict]:
    """'Type/id' -> resource, over the whole set."""
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"] for _, e in entries()}


def of_type(kind: str) -> list[dict]:
    return [r for r in resources().values() if r["resourceType"] == kind]


def get(reference: str) -> dict:
    return resources()[reference]


def codes(concept: dict | None, system: str | None = None) -> set[str]:
    return {c.get("code") for c in (concept or {}).get("coding", []) if system is None or c.get("system") == system}


def label_codes(doc: dict) -> set[str]:
    return {code for label in doc.get("securityLabel", []) for code in codes(label, CS_A07)}


def doc_class(doc: dict) -> str:
    return next(iter(codes(doc["category"][0], CS_A03)))


def age_on(birth: str, day: dt.date = TODAY) -> int:
    b = dt.date.fromisoformat(birth)
    return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


def parse_instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def period_covers(period: dict, day: dt.date = TODAY) -> bool:
    start = period.get("start")
    end = period.get("end")
    return (start is None or start[:10] <= day.isoformat()) and (end is None or end[:10] >= day.isoformat())


def walk(node, path: str = ""):
    """Yield (path, key, value) for every key of every object in a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, path)


def references_in(resource: dict) -> list[str]:
    return [v for _, k, v in walk(resource) if k == "reference" and isinstance(v, str)]


def values_at(node, dotted: str) -> list:
    """Values at a dotted element path (lists flattened), e.g. 'participant.status'."""
    current = [node]
    for part in dotted.split("."):
        nxt = []
        for item in current:
            value = item.get(part) if isinstance(item, dict) else None
            if value is None:
                continue
            nxt.extend(value if isinstance(value, list) else [value])
        current = nxt
    return current


def luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def identifier_values(resource: dict, system: str) -> list[str]:
    return [i["value"] for i in resource.get("identifier", []) if i.get("system") == system]


# ---------------------------------------------------------------- files and bundles
def test_the_seed_files_are_the_expected_ones():
    assert [p.name for p in seed_files()] == EXPECTED_FILES


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_every_file_is_a_transaction_bundle_that_parses(name):
    data = bundle(SEED_DIR / name)
    assert data["resourceType"] == "Bundle" and data["type"] == "transaction"
    assert data["entry"], "empty bundle"
    get_fhir_model_class("Bundle").model_validate(data)


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_every_entry_validates_with_its_r4b_model(name):
    errors = []
    for entry in bundle(SEED_DIR / name)["entry"]:
        resource = entry["resource"]
        try:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except Exception as exc:  # collect them all, one report
            errors.append(f"{resource['resourceType']}/{resource.get('id')}: {exc}")
    assert not errors, "\n".join(errors)


def test_every_entry_is_a_put_on_type_and_id_with_a_unique_readable_id():
    seen = Counter()
    for path, entry in entries():
        resource = entry["resource"]
        kind, rid = resource["resourceType"], resource["id"]
        assert kind in ALLOWED_TYPES, f"{path.name}: {kind} is not a seed type"
        assert entry["request"] == {"method": "PUT", "url": f"{kind}/{rid}"}, f"{kind}/{rid}"
        # absolute, so the resources' relative references resolve against it (bdl-7, issue 11 item 7)
        assert entry["fullUrl"] == f"https://dmp-fhir-server.example/fhir/{kind}/{rid}", f"{kind}/{rid}"
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)+", rid), f"id not readable: {rid}"
        seen[f"{kind}/{rid}"] += 1
    assert [k for k, n in seen.items() if n > 1] == []
    ids = Counter(rid.split("/")[1] for rid in seen)
    assert [k for k, n in ids.items() if n > 1] == [], "ids are unique across types too"


def test_no_audit_event_in_the_seed():
    assert of_type("AuditEvent") == []


def test_every_reference_is_relative_and_resolves_in_the_same_or_an_earlier_file():
    loaded: set[str] = set()
    problems = []
    for path in seed_files():
        here = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle(path)["entry"]}
        visible = loaded | here
        for entry in bundle(path)["entry"]:
            resource = entry["resource"]
            for reference in references_in(resource):
                if not RELATIVE_REFERENCE.match(reference):
                    problems.append(f"{path.name} {resource['id']}: not a relative reference {reference!r}")
                elif reference not in visible:
                    problems.append(f"{path.name} {resource['id']}: {reference} does not resolve")
        loaded |= here
    assert not problems, "\n".join(problems)


def test_every_attachment_points_to_a_binary_with_the_same_type_size_and_hash():
    for resource in resources().values():
        for attachment in [v for p, k, v in walk(resource) if k in ("attachment", "contentAttachment")]:
            binary = get(attachment["url"])
            assert binary["resourceType"] == "Binary"
            data = base64.b64decode(binary["data"], validate=True)
            assert 0 < len(data) <= 4096, "keep binaries small"
            assert attachment["contentType"] == binary["contentType"]
            assert attachment["size"] == len(data)
            assert attachment["hash"] == base64.b64encode(hashlib.sha1(data).digest()).decode()


def test_binaries_are_well_formed_for_their_content_type():
    for binary in of_type("Binary"):
        data = base64.b64decode(binary["data"])
        if binary["contentType"] == "application/pdf":
            assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
            xref = int(data.rsplit(b"startxref", 1)[1].split()[0])
            assert data[xref:].startswith(b"xref")
            table = data[xref:].split(b"trailer")[0].split(b"\n")[3:]
            for n, row in enumerate(r for r in table if r.strip()):
                assert data[int(row[:10]):].startswith(f"{n + 1} 0 obj".encode()), binary["id"]
        elif binary["contentType"] == "image/png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
        else:
            assert binary["contentType"] == "text/plain"
            data.decode("utf-8")
        assert binary.get("securityContext"), "binaries carry the resource that governs their access"


def test_the_generator_is_deterministic_and_the_committed_files_are_fresh(tmp_path):
    spec = importlib.util.spec_from_file_location("seed_generate", SEED_DIR / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(tmp_path / "a")
    module.write(tmp_path / "b")
    for name in EXPECTED_FILES:
        first = (tmp_path / "a" / name).read_bytes()
        assert first == (tmp_path / "b" / name).read_bytes(), f"{name} is not deterministic"
        assert first == (SEED_DIR / name).read_bytes(), f"{name} is stale: run python seed_data/generate.py"


# ---------------------------------------------------------------- codes with a required binding
@cache
def required_value_set(name: str) -> frozenset[str]:
    definitions = json.loads(REQUIRED_VALUESETS.read_text(encoding="utf-8"))
    by_url = {e["resource"]["url"]: e["resource"] for e in definitions["entry"]}

    def concepts(items):
        for c in items:
            yield c["code"]
            yield from concepts(c.get("concept", []))

    def expand(url: str) -> set[str]:
        value_set = by_url[url.split("|")[0]]
        out: set[str] = set()
        for include in value_set["compose"]["include"]:
            for nested in include.get("valueSet", []):
                out |= expand(nested)
            if "concept" in include:
                out |= {c["code"] for c in include["concept"]}
            elif "system" in include:
                assert "filter" not in include, f"{url}: filters are not supported here"
                out |= set(concepts(by_url[include["system"]]["concept"]))
        for exclude in value_set["compose"].get("exclude", []):
            out -= {c["code"] for c in exclude.get("concept", [])}
        return out

    return frozenset(expand(f"http://hl7.org/fhir/ValueSet/{name}"))


@pytest.mark.parametrize("element", sorted(REQUIRED_CODE_BINDINGS))
def test_codes_with_a_required_binding_are_in_their_value_set(element):
    kind, path = element.split(".", 1)
    allowed = required_value_set(REQUIRED_CODE_BINDINGS[element])
    assert allowed, element
    bad = [(r["id"], v) for r in of_type(kind) for v in values_at(r, path) if v not in allowed]
    assert bad == [], f"{element} must be one of {sorted(allowed)}"


@pytest.mark.parametrize("element", MIME_TYPE_ELEMENTS)
def test_media_types_are_well_formed(element):
    kind, path = element.split(".", 1)
    values = [v for r in of_type(kind) for v in values_at(r, path)]
    assert values and all(MIME_TYPE.match(v) for v in values), values


def _enum_violations(model: BaseModel, path: str):
    """Codes outside the enumerated values fhir.resources records for required bindings (data types too)."""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name, None)
        if value is None:
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        allowed = extra.get("enum_values")
        for item in value if isinstance(value, list) else [value]:
            if allowed and isinstance(item, str) and item not in allowed:
                yield f"{path}.{field.alias or name} = {item!r} not in {allowed}"
            if isinstance(item, BaseModel):
                yield from _enum_violations(item, f"{path}.{field.alias or name}")


def test_every_enumerated_code_of_every_element_and_data_type_is_valid():
    problems = []
    for reference, resource in resources().items():
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        problems += list(_enum_violations(model, reference))
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- identifiers
def nir_key_valid(value: str) -> bool:
    return bool(re.fullmatch(r"[12]\d{14}", value)) and 97 - int(value[:13]) % 97 == int(value[13:])


def test_ins_values_use_only_the_test_oid_and_have_valid_nir_keys():
    found = 0
    for resource in resources().values():
        for identifier in resource.get("identifier", []):
            system = identifier.get("system", "")
            if not system.startswith(INS_OID_PREFIX):
                continue
            found += 1
            assert system == OID_INS_NIR_TEST, f"{resource['id']}: only test INS values in the seed"
            assert codes(identifier.get("type"), CS_FR_V2_0203) == {"INS-NIR-TEST"}
            assert nir_key_valid(identifier["value"]), f"{resource['id']}: bad NIR {identifier['value']}"
    assert found >= 20


def test_every_patient_has_one_ins_consistent_with_sex_and_birth_date():
    values = []
    for p in of_type("Patient"):
        (ins,) = identifier_values(p, OID_INS_NIR_TEST)
        values.append(ins)
        assert ins[0] == {"male": "1", "female": "2"}[p["gender"]], p["id"]
        assert ins[1:5] == p["birthDate"][2:4] + p["birthDate"][5:7], p["id"]
        assert p["meta"]["profile"] == ["https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient"]
    assert len(values) == len(set(values)) >= 20


def test_practitioners_have_rpps_and_idnatps():
    for p in of_type("Practitioner"):
        (number,) = identifier_values(p, SYS_RPPS)
        assert re.fullmatch(r"10\d{9}", number) and luhn_valid(number), p["id"]
        assert identifier_values(p, SYS_IDNPS) == ["8" + number]
    numbers = [identifier_values(p, SYS_RPPS)[0] for p in of_type("Practitioner")]
    assert len(numbers) == len(set(numbers))


def test_health_organizations_have_finess_and_idnatst():
    for org in of_type("Organization"):
        kinds = codes(org["type"][0], CS_ORG_TYPE)
        if kinds & {"ins", "govt"}:  # insurers have no FINESS: idNatSt from their SIRET
            (idnst,) = identifier_values(org, SYS_IDNST)
            assert re.fullmatch(r"3\d{14}", idnst) and luhn_valid(idnst[1:]), org["id"]
            continue
        (number,) = identifier_values(org, SYS_FINESS)
        assert re.fullmatch(r"\d{9}", number) and luhn_valid(number), org["id"]
        assert identifier_values(org, SYS_IDNST) == ["1" + number]


# ---------------------------------------------------------------- the cast
def roles_of(practitioner_id: str) -> list[dict]:
    return [r for r in of_type("PractitionerRole") if r["practitioner"]["reference"] == practitioner_id]


def specialties_of(practitioner_id: str) -> set[str]:
    return {c for r in roles_of(practitioner_id) for s in r.get("specialty", []) for c in codes(s, CS_R38)}


def test_every_practitioner_has_an_active_role_in_an_organization():
    for p in of_type("Practitioner"):
        roles = roles_of(f"Practitioner/{p['id']}")
        assert roles and all(r["active"] and r["organization"]["reference"] in resources() for r in roles)


def test_the_cast_has_gps_specialists_nurses_a_regulator_and_the_structures():
    specialties = {c for p in of_type("Practitioner") for c in specialties_of(f"Practitioner/{p['id']}")}
    assert {"SM54", "SM04", "SM40", "SM20", "SM59"} <= specialties  # GP, cardio, paediatrics, gynaecology, emergency
    orgs = {o["id"]: o for o in of_type("Organization")}
    sectors = {c for o in orgs.values() for t in o["type"] for c in codes(t, CS_R02)}
    assert {"SA01", "SA17", "SA25", "SA24"} <= sectors  # hospital, Ehpad, lab, insurer
    assert codes(orgs["org-cpam-rhone"]["type"][0], CS_ORG_TYPE) == {"ins"}
    nurses = [r for r in of_type("PractitionerRole") if codes(r["code"][0], CS_G15) == {"60"}
              and r["organization"]["reference"] == "Organization/org-ehpad-les-tilleuls"]
    assert len(nurses) >= 2
    assert orgs["org-samu-69"]["partOf"]["reference"] == "Organization/org-chu-lyon-confluence"
    assert [r["organization"]["reference"] for r in roles_of("Practitioner/pra-francois-chevalier")] == [
        "Organization/org-samu-69"]


def test_patients_have_their_medecin_traitant_and_one_has_two():
    counts = []
    for p in of_type("Patient"):
        gps = [g["reference"] for g in p.get("generalPractitioner", [])]
        counts.append(len(gps))
        for gp in gps:
            assert gp.startswith("Practitioner/") and specialties_of(gp) & {"SM54", "SM40"}, (p["id"], gp)
    assert 2 in counts and 0 in counts and counts.count(1) >= 15


def test_about_twenty_patients_adults_and_minors():
    patients = of_type("Patient")
    minors = [p for p in patients if age_on(p["birthDate"]) < 18]
    assert 18 <= len(patients) <= 25
    assert len(minors) >= 3 and len(patients) - len(minors) >= 10


# ---------------------------------------------------------------- the stories (seed_data/README.md)
def legal_representatives(patient_id: str, active_only: bool = True) -> list[dict]:
    return [r for r in of_type("RelatedPerson")
            if r["patient"]["reference"] == f"Patient/{patient_id}"
            and {c for rel in r["relationship"] for c in codes(rel, CS_ROLE_CODE)} & LEGAL_REPRESENTATIVE_CODES
            and (not active_only or (r.get("active", True) and period_covers(r.get("period", {}))))]


def test_every_minor_has_one_or_two_legal_representatives():
    for p in of_type("Patient"):
        reps = legal_representatives(p["id"])
        if age_on(p["birthDate"]) < 18:
            assert 1 <= len(reps) <= 2, p["id"]
        else:
            assert reps == [], f"{p['id']} is an adult: no active legal representative"


def test_a_patient_who_came_of_age_keeps_an_ended_representation():
    hugo = get("Patient/pat-hugo-petitjean")
    assert age_on(hugo["birthDate"]) == 18
    (mother,) = legal_representatives("pat-hugo-petitjean", active_only=False)
    assert mother["active"] is False and mother["period"]["end"] == "2026-10-05"


def test_an_adults_trusted_person_is_not_a_legal_representative():
    daughter = get("RelatedPerson/rp-robert-vidal-fille")
    assert daughter["active"] and codes(daughter["relationship"][0], CS_ROLE_CODE) == {"DAU"}


def test_a_guardian_represents_a_minor_without_parents():
    (guardian,) = legal_representatives("pat-emma-caron")
    assert "GUARD" in {c for rel in guardian["relationship"] for c in codes(rel, CS_ROLE_CODE)}


def test_the_minors_secret_hides_confidential_care_and_its_reimbursement_from_representatives():
    docs = [d for d in of_type("DocumentReference") if "INVISIBLE_REPRESENTANTS_LEGAUX" in label_codes(d)]
    assert docs
    for d in docs:
        patient = get(d["subject"]["reference"])
        assert age_on(patient["birthDate"]) < 18 and legal_representatives(patient["id"])
    assert {"10", "42", "60"} <= {doc_class(d) for d in docs}
    assert "contraception" in " ".join(d["description"].lower() for d in docs)


def test_one_record_is_closed_with_date_and_reason_in_one_extension():
    statuses = {}
    for p in of_type("Patient"):
        (ext,) = [e for e in p.get("extension", []) if e["url"] == EXT_DMP_STATUS]
        assert not any(k.startswith("value") for k in ext), "a complex extension has no value[x]"
        parts = {e["url"]: e for e in ext["extension"]}
        statuses[p["id"]] = parts["status"]["valueCode"]
        if parts["status"]["valueCode"] == "FERME":
            assert parse_instant(parts["closureDate"]["valueDateTime"]).date() <= TODAY
            assert parts["closureReason"]["valueString"]
        else:
            assert set(parts) == {"status"}
    assert set(statuses.values()) == {"ACTIF", "FERME"}
    assert [pid for pid, s in statuses.items() if s == "FERME"] == ["pat-monique-renard"]
    assert [d for d in of_type("DocumentReference") if d["subject"]["reference"] == "Patient/pat-monique-renard"]


def consents_of(patient_id: str) -> list[dict]:
    return [c for c in of_type("Consent") if c["patient"]["reference"] == f"Patient/{patient_id}"]


def test_every_consent_is_a_privacy_consent_of_its_patient():
    for c in of_type("Consent"):
        assert codes(c["scope"]) == {"patient-privacy"}
        assert codes(c["category"][0], "http://loinc.org") == {"59284-0"}
        assert c["provision"]["type"] in {"permit", "deny"}
        assert c.get("policyRule") or c.get("policy"), "ppc-1"
        for actor in c["provision"].get("actor", []):
            assert actor["role"]["coding"] and actor["reference"]["reference"] in resources()


def _actors(c: dict) -> set[str]:
    return {a["reference"]["reference"] for a in c["provision"].get("actor", [])}


def test_a_holder_blocked_a_professional_of_her_active_care_team():
    (block,) = [c for c in consents_of("pat-sophie-bernard") if c["provision"]["type"] == "deny"]
    assert block["status"] == "active" and _actors(block) == {"Practitioner/pra-thomas-girard"}
    teams = [t for t in of_type("CareTeam") if t["subject"]["reference"] == "Patient/pat-sophie-bernard"
             and t["status"] == "active"]
    assert "Practitioner/pra-thomas-girard" in {p["member"]["reference"] for t in teams for p in t["participant"]}


def test_a_holder_blocked_an_establishment_whose_doctor_he_had_authorised_and_another_lifted_a_block():
    by_type = {c["provision"]["type"]: c for c in consents_of("pat-nicolas-fabre")}
    assert by_type["deny"]["status"] == "active"
    assert _actors(by_type["deny"]) == {"Organization/org-imagerie-bellecour"}
    assert _actors(by_type["permit"]) == {"Practitioner/pra-olivier-lambert"}
    assert [r["organization"]["reference"] for r in roles_of("Practitioner/pra-olivier-lambert")] == [
        "Organization/org-imagerie-bellecour"]
    (lifted,) = consents_of("pat-paul-henry")
    assert lifted["status"] == "inactive" and lifted["provision"]["type"] == "deny"


def test_holders_opposed_emergency_access_modes():
    modes = {}
    for c in of_type("Consent"):
        purposes = c["provision"].get("purpose", [])
        if purposes:
            assert c["provision"]["type"] == "deny" and c["status"] == "active" and not _actors(c)
            for p in purposes:
                assert p["system"] == CS_R248
                modes[p["code"]] = c["patient"]["reference"]
    assert modes == {"bris_de_glace": "Patient/pat-michel-fournier", "centre_15": "Patient/pat-jacqueline-perrin"}


def test_authorisations_are_permits_for_an_actor_and_a_period_some_expired():
    permits = [c for c in of_type("Consent") if c["provision"]["type"] == "permit"]
    assert permits
    for c in permits:
        assert len(_actors(c)) == 1 and c["provision"]["period"]["start"]
    ends = [c["provision"]["period"].get("end") for c in permits]
    assert None in ends, "a permanent authorisation"
    assert any(e and e < TODAY.isoformat() for e in ends), "an expired authorisation"
    assert any(e and e >= TODAY.isoformat() for e in ends), "a current temporary authorisation"


def test_an_authorisation_recorded_by_a_professional_has_its_provenance():
    (prov,) = [p for p in of_type("Provenance") if p["target"][0]["reference"].startswith("Consent/")]
    consent = get(prov["target"][0]["reference"])
    assert prov["agent"][0]["who"]["reference"] in _actors(consent)
    assert prov["agent"][0]["onBehalfOf"]["reference"] == consent["patient"]["reference"]


def test_active_care_teams_list_professionals_and_one_lists_an_organization():
    teams = of_type("CareTeam")
    assert {"active", "inactive"} == {t["status"] for t in teams}
    members = [p["member"]["reference"] for t in teams for p in t["participant"]]
    assert all(m.startswith(("Practitioner/", "Organization/")) for m in members)
    assert "Organization/org-ehpad-les-tilleuls" in members
    ehpad = get("CareTeam/ct-robert-vidal-ehpad")
    assert {"Practitioner/pra-laure-gauthier", "Practitioner/pra-karim-benali"} <= {
        p["member"]["reference"] for p in ehpad["participant"]}


# ---------------------------------------------------------------- documents
def test_every_document_has_class_type_subject_author_custodian_date_and_content():
    for d in of_type("DocumentReference"):
        assert doc_class(d) in ALL_A03_CLASSES
        assert d["type"]["coding"][0]["system"] in {"http://loinc.org", CS_A05}
        assert d["subject"]["reference"].startswith("Patient/")
        assert d["author"] and d["custodian"]["reference"].startswith("Organization/")
        assert parse_instant(d["date"]).date() <= TODAY
        assert d["content"][0]["attachment"]["url"].startswith("Binary/")
        assert codes(d["securityLabel"][0], "http://terminology.hl7.org/CodeSystem/v3-Confidentiality")


def test_every_document_class_of_tre_a03_is_present():
    assert {doc_class(d) for d in of_type("DocumentReference")} == ALL_A03_CLASSES


def test_reimbursement_data_is_authored_by_the_insurer():
    for d in [d for d in of_type("DocumentReference") if doc_class(d) == "60"]:
        assert codes(d["type"], CS_A05) == {"REMB"}
        (author,) = d["author"]
        assert codes(get(author["reference"])["type"][0], CS_ORG_TYPE) == {"ins"}


def test_patient_deposited_documents_are_class_90_docpat_by_the_patient():
    deposited = [d for d in of_type("DocumentReference") if doc_class(d) == "90"]
    assert len(deposited) >= 3
    for d in deposited:
        assert re.fullmatch(r"DOCPAT0[1-9]", d["type"]["coding"][0]["code"])
        assert [a["reference"] for a in d["author"]] == [d["subject"]["reference"]]
    for d in of_type("DocumentReference"):
        if any(a["reference"].startswith("Patient/") for a in d["author"]):
            assert doc_class(d) == "90"


def test_masked_documents_can_be_seen_by_their_author_and_the_medecin_traitant_only():
    masked = [d for d in of_type("DocumentReference") if "MASQUE_PS" in label_codes(d)]
    assert len(masked) >= 2
    for d in masked:
        patient = get(d["subject"]["reference"])
        gps = {g["reference"] for g in patient.get("generalPractitioner", [])}
        author = d["author"][0]["reference"]
        assert gps and author not in gps, "the author and the MT are different people, both may see it"
    claire = get("DocumentReference/doc-claire-martin-cr-consultation-gynecologie-2026-05")
    assert "MASQUE_PS" in label_codes(claire)
    assert any(_actors(c) == {"Practitioner/pra-olivier-lambert"} for c in consents_of("pat-claire-martin"))


def test_a_document_is_hidden_from_its_patient_until_the_announcement_consultation():
    (hidden,) = [d for d in of_type("DocumentReference") if "INVISIBLE_PATIENT" in label_codes(d)]
    written = parse_instant(hidden["date"]).date()
    assert TODAY - dt.timedelta(days=14) < written <= TODAY, "still within the 2 weeks before the reminder"
    author = hidden["author"][0]["reference"]
    visits = [a for a in of_type("Appointment") if a["status"] == "booked"
              and {p["actor"]["reference"] for p in a["participant"]} >= {author, hidden["subject"]["reference"]}]
    assert visits and parse_instant(visits[0]["start"]).date() > TODAY


def test_no_document_is_both_invisible_to_the_patient_and_masked():
    for d in of_type("DocumentReference"):
        assert not {"INVISIBLE_PATIENT", "MASQUE_PS"} <= label_codes(d), d["id"]


def test_a_replaced_document_is_superseded_and_a_deleted_one_is_entered_in_error():
    replacing = [d for d in of_type("DocumentReference") if d.get("relatesTo")]
    assert replacing
    for d in replacing:
        (relation,) = d["relatesTo"]
        assert relation["code"] == "replaces" and get(relation["target"]["reference"])["status"] == "superseded"
    assert [d["id"] for d in of_type("DocumentReference") if d["status"] == "entered-in-error"]


def test_one_document_is_archived_with_the_pdsm_extension():
    url = "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-ext-is-archived"
    archived = [d for d in of_type("DocumentReference")
                if any(e["url"] == url and e["valueBoolean"] for e in d.get("extension", []))]
    assert len(archived) == 1


def test_mhd_lists_reference_documents_of_their_subject():
    for lst in of_type("List"):
        for entry in lst["entry"]:
            assert get(entry["item"]["reference"])["subject"] == lst["subject"]


# ---------------------------------------------------------------- ENS services
def test_conversations_are_started_by_professionals_and_the_patient_replies():
    communications = of_type("Communication")
    for c in communications:
        if not c.get("inResponseTo"):
            assert c["sender"]["reference"].startswith("Practitioner/"), c["id"]
    replies = [c for c in communications if c.get("inResponseTo")]
    assert replies
    for reply in replies:
        original = get(reply["inResponseTo"][0]["reference"])
        assert reply["sender"]["reference"] == reply["subject"]["reference"]
        assert reply["sender"]["reference"] in {r["reference"] for r in original["recipient"]}
        assert original["sender"]["reference"] in {r["reference"] for r in reply["recipient"]}


def test_agenda_measures_and_questionnaires_belong_to_patients():
    for kind in ("Appointment", "Observation", "QuestionnaireResponse"):
        items = of_type(kind)
        assert items, kind
        for item in items:
            subject = item.get("subject", {}).get("reference") or next(
                p["actor"]["reference"] for p in item["participant"] if p["actor"]["reference"].startswith("Patient/"))
            assert get(subject)["resourceType"] == "Patient"


# ---------------------------------------------------------------- README
def test_the_readme_names_only_existing_ids_and_every_patient():
    readme = (SEED_DIR / "README.md").read_text(encoding="utf-8")
    prefixes = "pat|pra|prr|org|rp|ct|cns|doc|bin|com|appt|obs|qr|list|prov"
    named = set(re.findall(rf"`((?:{prefixes})-[a-z0-9-]+)`", readme))
    ids = {r.split("/")[1] for r in resources()}
    assert named and named <= ids, sorted(named - ids)
    assert {p["id"] for p in of_type("Patient")} <= named
