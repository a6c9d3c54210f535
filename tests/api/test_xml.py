"""FHIR XML at the HTTP edge (https://hl7.org/fhir/R4/xml.html): every interaction kind, by _format, Accept and
Content-Type, round-tripping XML → stored → JSON → XML; bad XML is a 400 OperationOutcome in the asked format."""

from __future__ import annotations

import base64

import pytest
from lxml import etree

from fhir_server.api.formats import negotiate
from fhir_server.errors import NotAcceptable
from tests.factories import DMP_STATUS, INS_NIR_TEST, document_reference, patient

NS = {"f": "http://hl7.org/fhir"}
XML_CT = "application/fhir+xml"
XML_HEADERS = {"Content-Type": XML_CT, "Accept": XML_CT}
PDF = base64.b64encode(b"%PDF-1.4 compte rendu").decode()


def to_xml(resource: dict) -> bytes:
    from fhir_server.api.formats import XML, dumps
    return dumps(resource, XML)


def xml_of(response, status: int = 200):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(XML_CT)
    return etree.fromstring(response.content)


def value(root, path: str) -> list[str]:
    return root.xpath(f"{path}/@value", namespaces=NS)


def send(api, method: str, path: str, body: dict | bytes | None = None, headers: dict | None = None):
    content = body if isinstance(body, bytes) or body is None else to_xml(body)
    return api.client.request(method, f"/fhir/{path}".rstrip("/"), content=content,
                              headers=api.headers({**XML_HEADERS, **(headers or {})}))


def rich_patient() -> dict:
    """A Patient using what XML renders differently: a primitive's extension, narrative, a contained resource."""
    return patient(
        name=[{"use": "official", "family": "Martin", "given": ["Claire", "Anne"],
               "_given": [None, {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-qualifier",
                                                "valueCode": "CL"}]}]}],
        text={"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Claire Martin &amp; é</p></div>'},
        contained=[{"resourceType": "Organization", "id": "org1", "name": "Cabinet"}],
        managingOrganization={"reference": "#org1"})


# --- negotiation -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["xml", "application/fhir+xml", "application/xml", "text/xml",
                                 "application/xml+fhir"])
def test_format_param_selects_xml(fmt):
    assert negotiate(fmt, "application/fhir+json") == "xml"


@pytest.mark.parametrize("accept,expected", [
    ("application/fhir+xml", "xml"), ("application/xml;q=0.9, application/fhir+json;q=0.5", "xml"),
    ("application/fhir+json;q=0.4, application/fhir+xml", "xml"), ("*/*", "json"), ("", "json"),
    ("text/html, application/fhir+json", "json"), ("application/fhir+xml;q=0, application/json", "json")])
def test_accept_header_negotiation(accept, expected):
    assert negotiate(None, accept) == expected


@pytest.mark.parametrize("fmt,accept", [("turtle", ""), (None, "text/html"), (None, "application/fhir+xml;q=0")])
def test_unserved_formats_are_406(fmt, accept):
    with pytest.raises(NotAcceptable):
        negotiate(fmt, accept)


def test_406_answer_is_an_operation_outcome(system):
    r = system.get("Patient?_format=turtle")
    assert r.status_code == 406
    assert r.json()["resourceType"] == "OperationOutcome"


# --- every interaction kind --------------------------------------------------------------------------------------

def test_metadata_in_xml_by_format_and_accept(client):
    for r in (client.get("/fhir/metadata?_format=xml"), client.get("/fhir/metadata", headers={"Accept": XML_CT})):
        root = xml_of(r)
        assert etree.QName(root).localname == "CapabilityStatement"
        assert value(root, "f:fhirVersion") == ["4.0.1"]
        assert value(root, "f:rest/f:resource/f:type")[:1]


def test_create_read_roundtrip_keeps_extensions_narrative_and_contained(system):
    created = xml_of(send(system, "POST", "Patient", rich_patient()), 201)
    pid = value(created, "f:id")[0]
    stored = system.get(f"Patient/{pid}").json()  # XML → stored → JSON
    assert stored["name"][0]["given"] == ["Claire", "Anne"]
    assert stored["name"][0]["_given"][1]["extension"][0]["valueCode"] == "CL"
    assert stored["contained"][0] == {"resourceType": "Organization", "id": "org1", "name": "Cabinet"}
    assert "Claire Martin" in stored["text"]["div"]
    assert stored["extension"][0]["url"] == DMP_STATUS
    back = xml_of(send(system, "GET", f"Patient/{pid}"))  # JSON → XML
    assert back.xpath("f:name/f:given[2]/f:extension/f:valueCode/@value", namespaces=NS) == ["CL"]
    assert back.xpath("f:contained/f:Organization/f:name/@value", namespaces=NS) == ["Cabinet"]
    assert back.xpath("f:text/x:div/x:p/text()", namespaces={**NS, "x": "http://www.w3.org/1999/xhtml"})
    assert value(back, "f:meta/f:versionId") == ["1"]
    assert value(back, "f:meta/f:lastUpdated") == [stored["meta"]["lastUpdated"]]
    assert to_xml(stored) == send(system, "GET", f"Patient/{pid}").content


def test_binary_base64_roundtrip(system):
    created = xml_of(send(system, "POST", "Binary", {"resourceType": "Binary", "contentType": "application/pdf",
                                                     "data": PDF}), 201)
    bid = value(created, "f:id")[0]
    assert system.get(f"Binary/{bid}").json()["data"] == PDF
    assert value(xml_of(send(system, "GET", f"Binary/{bid}?_format=xml")), "f:data") == [PDF]


def test_update_vread_history_and_search_in_xml(system):
    pid = system.post("Patient", patient()).json()["id"]
    updated = xml_of(send(system, "PUT", f"Patient/{pid}", {**patient(), "id": pid, "gender": "other"},
                          headers={"If-Match": 'W/"1"'}))
    assert value(updated, "f:gender") == ["other"]
    assert value(xml_of(send(system, "GET", f"Patient/{pid}/_history/1")), "f:gender") == ["female"]
    history = xml_of(send(system, "GET", f"Patient/{pid}/_history"))
    assert value(history, "f:type") == ["history"]
    assert value(history, "f:entry/f:resource/f:Patient/f:meta/f:versionId") == ["2", "1"]
    found = xml_of(send(system, "GET", f"Patient?identifier={INS_NIR_TEST}|279035121518989"))
    assert value(found, "f:type") == ["searchset"]
    assert value(found, "f:entry/f:resource/f:Patient/f:id") == [pid]


def test_patch_with_fhirpath_parameters_in_xml(system):
    pid = system.post("Patient", patient()).json()["id"]
    patch = {"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.gender"},
        {"name": "value", "valueCode": "male"}]}]}
    r = send(system, "PATCH", f"Patient/{pid}", patch)
    assert value(xml_of(r), "f:gender") == ["male"]
    assert system.get(f"Patient/{pid}").json()["gender"] == "male"


def test_delete_answers_in_xml(system):
    pid = system.post("Patient", patient()).json()["id"]
    r = send(system, "DELETE", f"Patient/{pid}")
    assert r.status_code in (200, 204)
    assert system.get(f"Patient/{pid}").status_code == 410


def provide_document_bundle() -> dict:
    """IHE MHD ITI-65: a SubmissionSet List, its DocumentReference and the Binary, by urn:uuid."""
    pat, doc, binary, sset = (f"urn:uuid:0000000{n}-0000-4000-8000-000000000000" for n in range(1, 5))
    entries = [
        (pat, patient(ins="279035121518990", family="Bernard")),
        (binary, {"resourceType": "Binary", "contentType": "application/pdf", "data": PDF}),
        (doc, document_reference(pat, content=[{"attachment": {"contentType": "application/pdf", "url": binary}}])),
        (sset, {"resourceType": "List", "status": "current", "mode": "working",
                "code": {"coding": [{"system": "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes",
                                     "code": "submissionset"}]},
                "subject": {"reference": pat}, "date": "2026-11-20T10:00:00+01:00",
                "entry": [{"item": {"reference": doc}}]}),
    ]
    return {"resourceType": "Bundle", "type": "transaction",
            "meta": {"profile": ["https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.ProvideBundle"]},
            "entry": [{"fullUrl": url, "resource": res, "request": {"method": "POST", "url": res["resourceType"]}}
                      for url, res in entries]}


def test_iti65_provide_document_bundle_in_xml(system):
    answer = xml_of(send(system, "POST", "", provide_document_bundle()))
    assert value(answer, "f:type") == ["transaction-response"]
    assert value(answer, "f:entry/f:response/f:status") == ["201 Created"] * 4
    locations = value(answer, "f:entry/f:response/f:location")
    doc_path = locations[2].split("/fhir/")[1].split("/_history")[0]
    doc = system.get(doc_path).json()
    assert doc["subject"]["reference"].startswith("Patient/")
    assert doc["content"][0]["attachment"]["url"].startswith("Binary/")
    sset = system.get(locations[3].split("/fhir/")[1].split("/_history")[0]).json()
    assert sset["entry"][0]["item"]["reference"] == doc_path


def test_batch_in_xml(system):
    pid = system.post("Patient", patient()).json()["id"]
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"Patient/{pid}"}},
        {"request": {"method": "GET", "url": "Patient/missing"}}]}
    answer = xml_of(send(system, "POST", "", batch))
    assert value(answer, "f:type") == ["batch-response"]
    assert [s.split()[0] for s in value(answer, "f:entry/f:response/f:status")] == ["200", "404"]
    assert value(answer, "f:entry/f:response/f:outcome/f:OperationOutcome/f:issue/f:code") == ["not-found"]


def test_operation_with_xml_parameters(as_actor, system):
    pid = system.post("Patient", patient()).json()["id"]
    holder = as_actor(f"Patient/{pid}", scope="patient/*.cruds")
    oppose = {"resourceType": "Parameters", "parameter": [
        {"name": "actor", "valueReference": {"reference": "Practitioner/pra-blocked"}}]}
    consent = xml_of(send(holder, "POST", f"Patient/{pid}/$oppose", oppose), 201)
    assert consent.xpath("f:provision/f:actor/f:reference/f:reference/@value", namespaces=NS) == [
        "Practitioner/pra-blocked"]
    assert send(holder, "POST", f"Patient/{pid}/$withdraw-opposition", oppose).status_code < 300


# --- errors ------------------------------------------------------------------------------------------------------

def outcome_xml(response, status: int):
    root = xml_of(response, status)
    assert etree.QName(root).localname == "OperationOutcome"
    return root


def test_error_outcomes_follow_the_negotiated_format(client, system):
    outcome_xml(client.get("/fhir/Patient?_format=xml"), 401)
    assert value(outcome_xml(send(system, "GET", "Patient/nope"), 404), "f:issue/f:code") == ["not-found"]


@pytest.mark.parametrize("body", [
    b"<Patient", b"<Patient/>", b'<Patient xmlns="http://hl7.org/fhir"><gender value="x"/></Patient>',
    b'<Nonsense xmlns="http://hl7.org/fhir"/>', b'<Patient xmlns="http://hl7.org/fhir"><birthDate value="soon"/></Patient>',
    b'<Patient xmlns="http://hl7.org/fhir"><unknown value="1"/></Patient>', b"   ",
    b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<Patient xmlns="http://hl7.org/fhir"><name><family value="&x;"/></name></Patient>'])
def test_bad_xml_bodies_are_4xx_outcomes_in_xml(system, body):
    r = send(system, "POST", "Patient", body)
    assert 400 <= r.status_code < 500, r.text
    assert b"root:" not in r.content
    outcome_xml(r, r.status_code)


def test_xml_body_with_json_answer(system):
    r = system.client.post("/fhir/Patient", content=to_xml(patient()),
                           headers=system.headers({"Content-Type": "application/xml", "Accept": "application/fhir+json"}))
    assert r.status_code == 201, r.text
    assert r.json()["name"][0]["family"] == "Martin"
