"""The CapabilityStatement says what the server does, and the published copy in capability/ is that one."""

import json
from pathlib import Path

from fhir_server.fhir_types import SUPPORTED_TYPES

PUBLISHED = Path(__file__).resolve().parent.parent / "capability" / "CapabilityStatement-dmp-fhir-server.json"


def test_published_capability_statement_equals_metadata(client):
    assert json.loads(PUBLISHED.read_text()) == client.get("/fhir/metadata").json(), \
        "regenerate with: dmp-fhir capability > capability/CapabilityStatement-dmp-fhir-server.json"


def test_capability_lists_every_type_with_its_interactions(client):
    rest = client.get("/fhir/metadata").json()["rest"][0]
    by_type = {r["type"]: r for r in rest["resource"]}
    assert set(by_type) == set(SUPPORTED_TYPES)
    patient = {i["code"] for i in by_type["Patient"]["interaction"]}
    assert patient == {"read", "vread", "search-type", "history-instance", "history-type", "create", "update",
                       "patch", "delete"}
    audit = {i["code"] for i in by_type["AuditEvent"]["interaction"]}
    assert audit.isdisjoint({"create", "update", "patch", "delete"})
    assert {i["code"] for i in rest["interaction"]} >= {"transaction", "batch", "history-system"}
    assert "identifier" in {p["name"] for p in by_type["Patient"]["searchParam"]}


def test_capability_validates_as_r4(client):
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement
    CapabilityStatement.model_validate(client.get("/fhir/metadata").json())
