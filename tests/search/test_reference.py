"""Reference search: Type/id, id, absolute URL of our base, :Type, :identifier, chains and _has."""

from __future__ import annotations

import pytest

from fhir_server.errors import BadRequest

from ..stores import requires
from .conftest import BASE

INS = "urn:oid:1.2.250.1.213.1.4.8"


@pytest.fixture
def record(db):
    db.put({"resourceType": "Patient", "identifier": [{"system": INS, "value": "111"}],
            "name": [{"family": "Martin"}]}, "p1")
    db.put({"resourceType": "Patient", "identifier": [{"system": INS, "value": "222"}],
            "name": [{"family": "Durand"}]}, "p2")
    db.put({"resourceType": "Practitioner", "name": [{"family": "Leclerc", "given": ["Sophie"]}]}, "dr1")
    db.put({"resourceType": "PractitionerRole", "practitioner": {"reference": "Practitioner/dr1"}}, "role1")

    def doc(id, subject, author=None):
        res = {"resourceType": "DocumentReference", "status": "current", "content": [],
               "subject": subject}
        if author:
            res["author"] = [{"reference": author}]
        db.put(res, id)
    doc("d1", {"reference": "Patient/p1"}, "Practitioner/dr1")
    doc("d2", {"reference": f"{BASE}/Patient/p2"}, "PractitionerRole/role1")
    doc("d3", {"reference": "http://elsewhere.org/fhir/Patient/p1"})
    doc("d4", {"type": "Patient", "identifier": {"system": INS, "value": "111"}})
    db.put({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "subject": {"reference": "Patient/p1"}, "valueString": "positive"}, "o1")
    return db


def test_type_and_id(record):
    assert record.ids("DocumentReference", "subject=Patient/p1") == {"d1"}
    assert record.ids("DocumentReference", "patient=Patient/p2") == {"d2"}     # stored relative


def test_plain_id(record):
    assert record.ids("DocumentReference", "subject=p1") == {"d1"}
    assert record.ids("DocumentReference", "patient=p1,p2") == {"d1", "d2"}


def test_absolute_url_of_our_base_is_relative(record):
    assert record.ids("DocumentReference", f"subject={BASE}/Patient/p1") == {"d1"}


def test_foreign_absolute_url_matches_as_written(record):
    assert record.ids("DocumentReference", "subject=http://elsewhere.org/fhir/Patient/p1") == {"d3"}


def test_type_modifier(record):
    assert record.ids("DocumentReference", "subject:Patient=p1") == {"d1"}
    assert record.ids("DocumentReference", "author:Practitioner=dr1") == {"d1"}
    assert record.ids("DocumentReference", "author:PractitionerRole=dr1") == set()


def test_identifier_modifier(record):
    assert record.ids("DocumentReference", f"subject:identifier={INS}|111") == {"d4"}


@pytest.mark.parametrize("query", ["subject=Foo/1", "subject=Organization/1", "subject:Organization=1",
                                   "subject=Patient/", "subject=a b", "subject:identifier=111"])
def test_bad_references_are_refused(record, query):
    with pytest.raises(BadRequest):
        record.ids("DocumentReference", query)


def test_chain_on_patient_identifier(record):
    # MHD ITI-67 `patient.identifier`: the referenced Patient's INS, or a logical reference carrying it
    assert record.ids("DocumentReference", f"patient.identifier={INS}|111") == {"d1", "d4"}
    assert record.ids("DocumentReference", f"patient.identifier={INS}|222") == {"d2"}
    assert record.ids("DocumentReference", f"patient.identifier={INS}|999") == set()


def test_chain_with_type_and_string(record):
    assert record.ids("DocumentReference", "subject:Patient.family=mart") == {"d1"}
    # MHD author.given / author.family: the Practitioner, or the PractitionerRole of that practitioner
    assert record.ids("DocumentReference", "author.given=soph") == {"d1", "d2"}
    assert record.ids("DocumentReference", "author.family=leclerc") == {"d1", "d2"}
    assert record.ids("DocumentReference", "author:Practitioner.family=leclerc") == {"d1"}


def test_two_step_chain(record):
    assert record.ids("DocumentReference", "author:PractitionerRole.practitioner.family=leclerc") == {"d2"}


def test_unknown_chained_parameter_is_refused(record):
    with pytest.raises(BadRequest):
        record.ids("DocumentReference", "subject:Patient.nonsense=1")
    with pytest.raises(BadRequest):
        record.ids("DocumentReference", "status.code=1")


def test_has(record):
    assert record.ids("Patient", "_has:Observation:patient:value-string=pos") == {"p1"}
    assert record.ids("Patient", "_has:DocumentReference:subject:_id=d2") == {"p2"}
    assert record.ids("Patient", "_has:Observation:patient:value-string=neg") == set()
    with pytest.raises(BadRequest):
        record.ids("Patient", "_has:Observation:status:code=1")


def test_chain_respects_the_access_filter(record):
    hide_p1 = lambda t: {"_id": {"$ne": "p1"}} if t == "Patient" else None   # noqa: E731
    assert record.ids("DocumentReference", f"patient.identifier={INS}|111", extra_filter=hide_p1) == {"d4"}


def test_reference_to_our_base_indexed_without_knowing_the_base(db):
    from fhir_server.search.index import extract_index
    from fhir_server.storage.base import Write
    from datetime import datetime, timezone
    doc = {"resourceType": "DocumentReference", "id": "abs", "status": "current", "content": [],
           "subject": {"reference": f"{BASE}/Patient/p9"}, "meta": {"lastUpdated": "2026-01-01T00:00:00Z"}}
    db.store.write(Write("DocumentReference", "abs", doc, extract_index(doc), {}, None),
                   datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert db.ids("DocumentReference", f"subject={BASE}/Patient/p9") == {"abs"}


@requires("elemmatch_subdocuments", "elemmatch_and")
def test_relationship_composite(db):
    db.put({"resourceType": "DocumentReference", "status": "current", "content": [],
            "relatesTo": [{"code": "replaces", "target": {"reference": "DocumentReference/old"}}]}, "new")
    db.put({"resourceType": "DocumentReference", "status": "current", "content": []}, "old")
    assert db.ids("DocumentReference", "relatesto=DocumentReference/old") == {"new"}
    assert db.ids("DocumentReference", "relation=replaces") == {"new"}
    assert db.ids("DocumentReference", "relationship=DocumentReference/old$replaces") == {"new"}
    assert db.ids("DocumentReference", "relationship=DocumentReference/old$transforms") == set()
    assert db.ids("DocumentReference", "relationship:missing=true") == {"old"}


def test_index_value_of_every_kind_of_reference_node():
    """`extract`'s path for a literal reference alone gives what the general one (`_entries`, node by node) gives,
    for every shape a node may have, alone and mixed."""
    from fhir_server.search.expressions import Node
    from fhir_server.search.types import reference
    from fhir_server.search.types.base import ExtractContext

    class Mapping(dict):
        pass

    values = [{"reference": "Patient/p1"}, {"reference": f"{BASE}/Patient/p2/_history/3"}, {"reference": "#c1"},
              {"reference": ""}, {"reference": 7}, {"reference": " Patient/p3"}, {"reference": "x" * 300},
              {"reference": "Patient/p1", "identifier": {"system": INS, "value": "111"}},
              {"identifier": {"value": "222"}}, {"type": "Patient"}, Mapping(reference="Patient/p4"),
              "http://example.org/ValueSet/v|2", "plain", 12, None, [], {}]
    ctx = ExtractContext(code="subject", base_url=BASE)
    for size in (1, 2, 3):
        for start in range(len(values)):
            nodes = [Node(v) for v in (values[start:] + values)[:size]]
            expected = sorted({e for n in nodes for e in reference._entries(n.value, n.fhir_type, BASE)})
            got = reference.extract(nodes, ctx)
            if not expected:
                assert got is None
                continue
            assert got == {"r": expected, "s": next((e for e in expected if not e.startswith(" ")), "")}, nodes
