"""Reading AuditEvents the way the tests talk about them: by request id, by chain, by BALP element."""

from __future__ import annotations

import base64
import uuid

from fhir_server.audit.writer import COLLECTION

BALP = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."
TRE_R248 = "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/TRE-R248-ModeAcces"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
REQUEST_ID_TYPE = "XrequestId"
CLIENT_HOST = "testclient"     # what Starlette's TestClient presents as the peer address

PATIENT_ROLE, DOMAIN_RESOURCE_ROLE, QUERY_ROLE = "1", "4", "24"


def send(api, method: str, path: str, json=None, headers: dict | None = None):
    """One request with a fresh X-Request-Id; returns (response, request id)."""
    rid = f"test-{uuid.uuid4().hex}"
    response = api.request(method, path, json, headers={"X-Request-Id": rid, **(headers or {})})
    return response, rid


def stored_traces(store, rid: str) -> list[dict]:
    """The stored documents (with `_chain` and `_acl`) of every trace written for one request."""
    return [d for d in store.find(COLLECTION, {}, sort=[("_chain.key", 1), ("_chain.seq", 1)])
            if request_id(d["res"]) == rid]


def traces(store, rid: str) -> list[dict]:
    return [d["res"] for d in stored_traces(store, rid)]


def only_trace(store, rid: str) -> dict:
    found = stored_traces(store, rid)
    assert len(found) == 1, f"expected one trace for request {rid}, found {len(found)}"
    return found[0]


def chain(store, key: str) -> list[dict]:
    return store.find(COLLECTION, {"_chain.key": key}, sort=[("_chain.seq", 1)])


def profile(event: dict) -> str:
    (url,) = event["meta"]["profile"]
    assert url.startswith(BALP)
    return url[len(BALP):]


def request_id(event: dict) -> str | None:
    for entity in event.get("entity", []):
        if entity.get("type", {}).get("code") == REQUEST_ID_TYPE:
            return entity["what"]["identifier"]["value"]
    return None


def entities(event: dict, role: str) -> list[dict]:
    return [e for e in event.get("entity", []) if e.get("role", {}).get("code") == role]


def patients(event: dict) -> list[str]:
    return [e["what"]["reference"] for e in entities(event, PATIENT_ROLE)]


def resources(event: dict) -> list[str]:
    return [e["what"]["reference"] for e in entities(event, DOMAIN_RESOURCE_ROLE)]


def queries(event: dict) -> list[str]:
    return [base64.b64decode(e["query"]).decode() for e in entities(event, QUERY_ROLE)]


def requestor(event: dict) -> dict:
    (agent,) = [a for a in event["agent"] if a.get("requestor") is True]
    return agent


def other_agents(event: dict) -> list[str]:
    return [a["who"].get("reference") for a in event["agent"] if a.get("requestor") is not True]


def codings(concepts: list[dict]) -> set[tuple[str, str]]:
    return {(c.get("system"), c.get("code")) for concept in concepts or [] for c in concept.get("coding", [])}


def is_refusal(event: dict) -> bool:
    return (profile(event) == "AuthZconsent" and event["type"].get("system") == DCM
            and event["type"].get("code") == "110113" and event["outcome"] == "4")


def bundle_refs(bundle: dict) -> set[str]:
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle.get("entry", [])
            if e.get("resource", {}).get("resourceType") != "OperationOutcome"}


def follow(api, bundle: dict) -> list[dict]:
    """Every page of a searchset, following `next` links; returns the pages."""
    pages = [bundle]
    while (nxt := next((l["url"] for l in pages[-1].get("link", []) if l["relation"] == "next"), None)):
        assert len(pages) < 50, "paging does not end"
        response = api.client.get(nxt.replace("http://testserver", ""), headers=api.headers())
        assert response.status_code == 200, response.text
        pages.append(response.json())
    return pages
