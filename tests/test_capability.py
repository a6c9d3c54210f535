"""The CapabilityStatement says what the server does, and the published copy in capability/ is that one."""

import json
from pathlib import Path

from fhir_server.fhir_types import SUPPORTED_TYPES
from fhir_server.services.conformance import CONFORMANCE_TYPES

PUBLISHED = Path(__file__).resolve().parent.parent / "capability" / "CapabilityStatement-dmp-fhir-server.json"


def test_published_capability_statement_equals_metadata(client):
    assert json.loads(PUBLISHED.read_text()) == client.get("/fhir/metadata").json(), \
        "regenerate with: dmp-fhir capability > capability/CapabilityStatement-dmp-fhir-server.json"


def test_capability_lists_every_type_with_its_interactions(client):
    rest = client.get("/fhir/metadata").json()["rest"][0]
    by_type = {r["type"]: r for r in rest["resource"]}
    assert set(by_type) == set(SUPPORTED_TYPES) | set(CONFORMANCE_TYPES)
    assert {i["code"] for i in by_type["OperationDefinition"]["interaction"]} == {"read", "search-type"}
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


def test_published_operation_code_system_equals_the_declaration():
    from fhir_server.operation_definitions import operation_code_system
    from fhir_server.services.operations import OPERATIONS
    published = json.loads((PUBLISHED.parent / "CodeSystem-operation.json").read_text())
    assert published == operation_code_system(), "regenerate: python -m fhir_server.operation_definitions"
    assert {c["code"] for c in published["concept"]} == {name for _, name, _ in OPERATIONS}
    assert published["count"] == len(published["concept"])


def test_published_operation_definitions_equal_the_declaration():
    from fhir_server.operation_definitions import all_definitions
    from fhir.resources.R4B.operationdefinition import OperationDefinition
    for definition in all_definitions():
        path = PUBLISHED.parent / f"OperationDefinition-{definition['id']}.json"
        assert json.loads(path.read_text()) == definition, "regenerate: python -m fhir_server.operation_definitions"
        OperationDefinition.model_validate(definition)


def test_every_declared_operation_is_served_and_listed(client):
    from fhir_server.operation_definitions import all_definitions
    from fhir_server.services.operations import OPERATIONS
    declared = {(d["resource"][0], d["code"]) for d in all_definitions()}
    assert declared == {(t, name) for t, name, _ in OPERATIONS if name != "validate"}
    by_type = {r["type"]: r for r in client.get("/fhir/metadata").json()["rest"][0]["resource"]
               if r["type"] in SUPPORTED_TYPES}
    listed = {(t, op["name"]) for t, r in by_type.items() for op in r.get("operation", [])}
    assert listed == declared | {(t, "validate") for t in by_type}
