"""The artefacts the CapabilityStatement names by canonical URL can be read at the server, without a token
(issue 11, item 8), and the published terminology says the truth (names, counts, purposeOfUse codes)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.factories import patient

ROOT = Path(__file__).resolve().parent.parent.parent
BASE = "http://testserver/fhir"


def test_every_canonical_named_by_the_capability_statement_resolves_without_token(client):
    statement = client.get("/fhir/metadata").json()
    rest = statement["rest"][0]
    canonicals = {op["definition"] for r in rest["resource"] for op in r.get("operation", [])
                  if "dmp-fhir-server" in op["definition"]}
    canonicals |= {p["definition"] for r in rest["resource"] for p in r.get("searchParam", []) if "definition" in p
                   and "hl7.org/fhir/SearchParameter" not in p["definition"]}
    assert len(canonicals) > 10
    for url in sorted(canonicals):
        kind = "OperationDefinition" if "/OperationDefinition/" in url else "SearchParameter"
        found = client.get(f"/fhir/{kind}", params={"url": url})
        assert found.status_code == 200, (url, found.text)
        bundle = found.json()
        assert bundle["total"] == 1, url
        resource = bundle["entry"][0]["resource"]
        assert resource["url"] == url
        assert bundle["entry"][0]["fullUrl"] == f"{BASE}/{kind}/{resource['id']}"
        read = client.get(f"/fhir/{kind}/{resource['id']}")
        assert read.status_code == 200 and read.json() == resource


def test_artefact_read_is_the_published_file_and_any_token_is_ignored(client):
    published = json.loads((ROOT / "capability" / "OperationDefinition-DocumentReference-mask.json").read_text())
    read = client.get("/fhir/OperationDefinition/DocumentReference-mask", headers={"Authorization": "Bearer x.y.z"})
    assert read.status_code == 200 and read.json() == published
    assert read.headers["content-type"].startswith("application/fhir+json")
    code_system = client.get("/fhir/CodeSystem/operation").json()
    assert code_system["url"] == "https://dmp-fhir-server.example/fhir/CodeSystem/operation"
    assert {"mask", "everything", "validate"} <= {c["code"] for c in code_system["concept"]}


def test_artefacts_refuse_writes_unknown_ids_and_unknown_parameters(client):
    missing = client.get("/fhir/SearchParameter/nope")
    assert missing.status_code == 404 and missing.json()["issue"][0]["code"] == "not-found"
    write = client.put("/fhir/OperationDefinition/DocumentReference-mask", json={"resourceType": "OperationDefinition"})
    assert write.status_code == 405 and write.json()["resourceType"] == "OperationOutcome"
    unknown = client.get("/fhir/CodeSystem?publisher=x")
    assert unknown.status_code == 400 and unknown.json()["issue"][0]["expression"] == ["publisher"]
    empty = client.get("/fhir/ValueSet?url=http://nowhere.example/vs").json()
    assert empty["total"] == 0 and "entry" not in empty


def test_the_operation_code_system_covers_every_traced_operation(system):
    pid = system.post("Patient", patient()).json()["id"]
    assert system.get(f"Patient/{pid}/$everything").status_code == 200
    events = system.get(f"AuditEvent?patient=Patient/{pid}").json()["entry"]
    subtypes = {(c["system"], c["code"]) for e in events for c in e["resource"].get("subtype", [])}
    codes = {c["code"] for c in json.loads((ROOT / "capability" / "CodeSystem-operation.json").read_text())["concept"]}
    ours = {code for system_url, code in subtypes if system_url.endswith("/CodeSystem/operation")}
    assert ours == {"everything"} and ours <= codes


def test_extensions_have_computable_names_and_fragments_state_no_count():
    for name in ("dmp-status", "hidden-from-patient-until"):
        sd = json.loads((ROOT / "profiles" / f"StructureDefinition-{name}.json").read_text())
        assert sd["name"][0].isupper() and sd["name"].isalnum(), sd["name"]        # sdf-0
    for path in (ROOT / "profiles" / "terminology").glob("CodeSystem-*.json"):
        cs = json.loads(path.read_text())
        if cs["content"] == "fragment":
            assert "count" not in cs, path.name   # count is the whole code system's, which a copy cannot know
        else:
            assert cs["count"] == len(cs["concept"]), path.name


def test_purpose_of_use_carries_v3_codes_beside_tre_r248(app, as_actor, system):
    pid = system.post("Patient", patient()).json()["id"]
    events = system.get(f"AuditEvent?patient=Patient/{pid}").json()["entry"]
    requestor = next(a for a in events[0]["resource"]["agent"] if a.get("requestor"))
    codes = {(c["system"].rsplit("/", 1)[-1], c["code"]) for c in requestor["purposeOfUse"][0]["coding"]}
    assert codes == {("TRE-R248-ModeAcces", "normal"), ("v3-ActReason", "TREAT")}


def test_capability_statement_claims_no_pdsm_conformance_and_points_at_the_decision(client):
    statement = client.get("/fhir/metadata").json()
    assert "instantiates" not in statement
    assert "profiles/README.md" in statement["rest"][0]["documentation"]
    decision = (ROOT / "profiles" / "README.md").read_text()
    assert "PDSm constraints the project does not follow" in decision and "DocumentReference.contained" in decision


def test_seed_documents_and_submission_set_carry_the_pdsm_elements_they_can():
    bundle = json.loads((ROOT / "seed_data" / "05-documents.json").read_text())
    resources = [e["resource"] for e in bundle["entry"]]
    documents = [r for r in resources if r["resourceType"] == "DocumentReference"]
    for doc in documents:
        context = doc["context"]
        assert context["period"]["start"] == doc["date"], doc["id"]
        assert context["sourcePatientInfo"] == {"reference": doc["subject"]["reference"]}, doc["id"]
        attachment = doc["content"][0]["attachment"]
        assert doc["masterIdentifier"]["value"].startswith("urn:uuid:") and doc["custodian"]["reference"]
        assert attachment["size"] > 0 and attachment["hash"] and attachment["title"] and doc["content"][0]["format"]
    lists = {r["code"]["coding"][0]["code"]: r for r in resources if r["resourceType"] == "List"}
    urls = {e["url"].rsplit("/", 1)[-1]: e for e in lists["submissionset"]["extension"]}
    assert set(urls) == {"ihe-designationType", "ihe-sourceId"}
    assert urls["ihe-sourceId"]["valueIdentifier"]["value"].startswith("urn:uuid:")
    assert all(r["source"]["reference"].startswith("PractitionerRole/prr-") for r in lists.values())
