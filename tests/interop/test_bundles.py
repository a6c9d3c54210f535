"""Bundles an independent validator accepts: unique fullUrls (bdl-7), no empty arrays (ele-1), named outcome
entries, and a self link that says what a lenient search actually searched (issue 11, items 1-3)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from tests.factories import document_reference, patient


def _make_patient(system) -> str:
    return system.post("Patient", patient()).json()["id"]


def test_everything_lists_the_patient_once(system):
    pid = _make_patient(system)
    system.post("DocumentReference", document_reference(f"Patient/{pid}"))
    bundle = system.get(f"Patient/{pid}/$everything").json()
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    assert urls[0] == f"http://testserver/fhir/Patient/{pid}"
    assert [e["resource"]["resourceType"] for e in bundle["entry"]].count("Patient") == 1
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert bundle["total"] == len(kinds) and kinds.count("DocumentReference") == 1   # plus the traces


def test_empty_searchset_has_no_entry_array(system):
    bundle = system.get("Patient?family=nobody-has-this-name").json()
    assert bundle["total"] == 0 and "entry" not in bundle
    counted = system.get("Patient?_summary=count").json()
    assert counted["type"] == "searchset" and "entry" not in counted and counted["total"] == 0
    zero = system.get("Patient?_count=0").json()
    assert "entry" not in zero


def test_empty_history_and_transaction_response_have_no_entry_array(system):
    history = system.get("Practitioner/_history?_since=2099-01-01T00:00:00Z").json()
    assert history["type"] == "history" and "entry" not in history
    response = system.post("", {"resourceType": "Bundle", "type": "batch"})
    assert response.status_code == 200, response.text
    assert response.json() == {"resourceType": "Bundle", "type": "batch-response"}


def empty_arrays(node, path="$") -> list[str]:
    """The paths of the empty arrays in a JSON value (FHIR ele-1 forbids them)."""
    if isinstance(node, list):
        return [path] if not node else [p for i, v in enumerate(node) for p in empty_arrays(v, f"{path}[{i}]")]
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in empty_arrays(v, f"{path}.{k}")]
    return []


def test_capability_statement_has_no_empty_array(client):
    statement = client.get("/fhir/metadata").json()
    assert empty_arrays(statement) == []
    consent = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Provenance")
    assert consent["searchParam"] and consent["searchInclude"]


def test_lenient_search_outcome_entry_has_a_full_url_and_self_link_drops_ignored(system):
    _make_patient(system)
    response = system.get("Patient?family=martin&nonsense=1&_include=Patient:nothing",
                          headers={"Prefer": "handling=lenient"})
    assert response.status_code == 200, response.text
    bundle = response.json()
    outcome = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcome) == 1 and outcome[0]["fullUrl"].startswith("urn:uuid:")
    assert outcome[0]["resource"]["resourceType"] == "OperationOutcome"
    assert {i["expression"][0] for i in outcome[0]["resource"]["issue"]} == {"nonsense", "_include=Patient:nothing"}
    self_link = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    assert parse_qsl(urlsplit(self_link).query) == [("family", "martin")]
    assert bundle["total"] == 1 and bundle["entry"][0]["search"]["mode"] == "match"
