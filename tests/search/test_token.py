"""Token search: code, system|code, |code, system|, :not, :text, :of-type, :missing."""

from __future__ import annotations

import pytest

from fhir_server.errors import BadRequest

LOINC = "http://loinc.org"
INS = "urn:oid:1.2.250.1.213.1.4.8"


@pytest.fixture
def docs(db):
    def doc(id, code, system=LOINC, display=None, **extra):
        coding = {"code": code, **({"system": system} if system else {}), **({"display": display} if display else {})}
        return db.put({"resourceType": "DocumentReference", "status": "current", "content": [],
                       "type": {"coding": [coding]}, **extra}, id)
    doc("a", "11488-4", display="Consult note")
    doc("b", "34133-9", display="Résumé de sortie")
    doc("c", "11488-4", system="http://other.org")
    doc("d", "11488-4", system=None)
    db.put({"resourceType": "DocumentReference", "status": "superseded", "content": []}, "e")
    return db


def test_code_alone_matches_any_system(docs):
    assert docs.ids("DocumentReference", "type=11488-4") == {"a", "c", "d"}


def test_system_and_code(docs):
    assert docs.ids("DocumentReference", f"type={LOINC}|11488-4") == {"a"}
    assert docs.ids("DocumentReference", f"type={LOINC}|34133-9,http://other.org|11488-4") == {"b", "c"}


def test_bar_code_matches_only_codes_without_system(docs):
    assert docs.ids("DocumentReference", "type=|11488-4") == {"d"}


def test_system_bar_matches_any_code_of_the_system(docs):
    assert docs.ids("DocumentReference", f"type={LOINC}|") == {"a", "b"}


def test_not_includes_resources_without_the_element(docs):
    assert docs.ids("DocumentReference", f"type:not={LOINC}|11488-4") == {"b", "c", "d", "e"}
    assert docs.ids("DocumentReference", "type:not=11488-4") == {"b", "e"}
    assert docs.ids("DocumentReference", f"type:not={LOINC}|") == {"c", "d", "e"}


def test_text_searches_display_folded(docs):
    assert docs.ids("DocumentReference", "type:text=resume") == {"b"}
    assert docs.ids("DocumentReference", "type:text=CONSULT") == {"a"}


def test_missing(docs):
    assert docs.ids("DocumentReference", "type:missing=true") == {"e"}
    assert docs.ids("DocumentReference", "type:missing=false") == {"a", "b", "c", "d"}


def test_status_code_with_its_implicit_system(docs):
    assert docs.ids("DocumentReference", "status=superseded") == {"e"}
    assert docs.ids("DocumentReference", "status=http://hl7.org/fhir/document-reference-status|superseded") == {"e"}


def test_identifier_and_of_type(db):
    db.put({"resourceType": "Patient", "identifier": [
        {"system": INS, "value": "1800175123456",
         "type": {"coding": [{"system": "http://interopsante.org/CodeSystem/v2-0203", "code": "INS-NIR"}]}}]}, "p1")
    db.put({"resourceType": "Patient", "identifier": [{"system": "urn:oid:9.9", "value": "1800175123456"}]}, "p2")
    assert db.ids("Patient", f"identifier={INS}|1800175123456") == {"p1"}
    assert db.ids("Patient", "identifier=1800175123456") == {"p1", "p2"}
    assert db.ids("Patient", "identifier:of-type=http://interopsante.org/CodeSystem/v2-0203|INS-NIR|1800175123456") \
        == {"p1"}
    with pytest.raises(BadRequest):
        db.ids("Patient", "identifier:of-type=INS-NIR|123")


def test_boolean_and_contact_points(db):
    db.put({"resourceType": "Patient", "active": True, "telecom": [
        {"system": "phone", "value": "0601020304", "use": "mobile"}, {"system": "email", "value": "a@b.fr"}]}, "p1")
    db.put({"resourceType": "Patient", "active": False}, "p2")
    assert db.ids("Patient", "active=true") == {"p1"}
    assert db.ids("Patient", "active=false") == {"p2"}
    assert db.ids("Patient", "phone=0601020304") == {"p1"}
    assert db.ids("Patient", "email=0601020304") == set()
    assert db.ids("Patient", "email=a@b.fr") == {"p1"}
    assert db.ids("Patient", "telecom=mobile|0601020304") == {"p1"}


def test_escaped_comma_and_bar(db):
    db.put({"resourceType": "Patient", "identifier": [{"system": "http://s", "value": "a,b"}]}, "p1")
    assert db.ids("Patient", r"identifier=http://s|a\,b") == {"p1"}
    assert db.ids("Patient", "identifier=http://s|a,b") == set()


def test_too_many_bars_is_refused(db):
    with pytest.raises(BadRequest):
        db.ids("Patient", "identifier=a|b|c")
