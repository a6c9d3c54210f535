"""_include / _revinclude (with :iterate): marked include, no duplicates, capped, access-filtered."""

from __future__ import annotations

import pytest

from fhir_server.errors import BadRequest
from fhir_server.search import include


@pytest.fixture
def record(db):
    db.put({"resourceType": "Organization", "name": "CHU"}, "org")
    db.put({"resourceType": "Practitioner", "name": [{"family": "Leclerc"}]}, "dr")
    db.put({"resourceType": "PractitionerRole", "practitioner": {"reference": "Practitioner/dr"},
            "organization": {"reference": "Organization/org"}}, "role")
    db.put({"resourceType": "Patient", "managingOrganization": {"reference": "Organization/org"}}, "p1")
    db.put({"resourceType": "Patient"}, "p2")
    for i, (subject, author) in enumerate([("p1", "PractitionerRole/role"), ("p1", "Practitioner/dr"),
                                           ("p2", "Practitioner/dr")]):
        db.put({"resourceType": "DocumentReference", "status": "current", "content": [],
                "subject": {"reference": f"Patient/{subject}"}, "author": [{"reference": author}]}, f"d{i}")
    db.put({"resourceType": "Provenance", "target": [{"reference": "DocumentReference/d0"}],
            "recorded": "2025-01-01T00:00:00Z", "agent": [{"who": {"reference": "Practitioner/dr"}}]}, "prov0")
    db.put({"resourceType": "Provenance", "target": [{"reference": "Patient/p1"}],
            "recorded": "2025-01-01T00:00:00Z", "agent": [{"who": {"reference": "Practitioner/dr"}}]}, "provp1")
    return db


def modes(bundle: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in bundle["entry"]:
        res = e["resource"]
        out.setdefault(e["search"]["mode"], set()).add(f"{res['resourceType']}/{res.get('id', '')}")
    return out


def test_include_adds_referenced_resources_once(record):
    b = record.search("DocumentReference", "subject=p1&_include=DocumentReference:subject"
                                           "&_include=DocumentReference:author")
    m = modes(b)
    assert m["match"] == {"DocumentReference/d0", "DocumentReference/d1"}
    assert m["include"] == {"Patient/p1", "PractitionerRole/role", "Practitioner/dr"}
    assert len(b["entry"]) == 5 and b["total"] == 2


def test_include_with_target_type(record):
    m = modes(record.search("DocumentReference", "subject=p1&_include=DocumentReference:author:Practitioner"))
    assert m["include"] == {"Practitioner/dr"}


def test_include_star(record):
    m = modes(record.search("PractitionerRole", "_include=PractitionerRole:*"))
    assert m["include"] == {"Practitioner/dr", "Organization/org"}


def test_revinclude(record):
    m = modes(record.search("DocumentReference", "_id=d0,d2&_revinclude=Provenance:target"))
    assert m["include"] == {"Provenance/prov0"}


def test_iterate_follows_included_resources(record):
    q = "_id=d0&_include=DocumentReference:author&_include:iterate=PractitionerRole:organization"
    assert modes(record.search("DocumentReference", q))["include"] == \
        {"PractitionerRole/role", "Organization/org"}
    # without :iterate, the PractitionerRole include applies to the matches only (none are PractitionerRoles)
    q = "_id=d0&_include=DocumentReference:author&_include=PractitionerRole:organization"
    assert modes(record.search("DocumentReference", q))["include"] == {"PractitionerRole/role"}


def test_revinclude_applies_to_included_resources_with_iterate(record):
    # HAPI regression: a _revinclude:iterate must reach resources brought in by _include
    q = "_id=d1&_include=DocumentReference:subject&_revinclude:iterate=Provenance:target"
    assert modes(record.search("DocumentReference", q))["include"] == {"Patient/p1", "Provenance/provp1"}


def test_iterate_mixed_with_non_iterate(record):
    # HAPI regression: non-iterate on the matches, iterate over everything added
    q = ("_id=d0&_revinclude=Provenance:target&_include:iterate=Provenance:agent"
         "&_include:iterate=PractitionerRole:practitioner")
    assert modes(record.search("DocumentReference", q))["include"] == {"Provenance/prov0", "Practitioner/dr"}


def test_included_matches_are_not_repeated(record):
    m = record.search("Patient", "_revinclude=DocumentReference:subject&_include:iterate=DocumentReference:subject")
    urls = [e["fullUrl"] for e in m["entry"]]
    assert len(urls) == len(set(urls))
    assert modes(m)["match"] == {"Patient/p1", "Patient/p2"}


def test_include_cap_is_reported(record, monkeypatch):
    monkeypatch.setattr(include, "MAX_INCLUDED", 1)
    b = record.search("DocumentReference", "subject=p1&_include=DocumentReference:author")
    m = modes(b)
    assert len(m["include"]) == 1
    outcome = [e for e in b["entry"] if e["search"]["mode"] == "outcome"][0]["resource"]
    assert outcome["issue"][0]["severity"] == "warning" and "include" in outcome["issue"][0]["diagnostics"]


def test_includes_obey_the_access_filter(record):
    hide = lambda t: {"_id": {"$nin": ["dr", "prov0"]}} if t in ("Practitioner", "Provenance") else None  # noqa
    q = "_id=d0,d1&_include=DocumentReference:author&_revinclude=Provenance:target"
    assert modes(record.search("DocumentReference", q, extra_filter=hide))["include"] == {"PractitionerRole/role"}


def test_includes_skip_deleted(record):
    record.delete("Practitioner", "dr")
    assert modes(record.search("DocumentReference", "_id=d1&_include=DocumentReference:author")).get("include") is None


def test_bad_include_is_refused(record):
    with pytest.raises(BadRequest):
        record.search("DocumentReference", "_include=DocumentReference:status")
    with pytest.raises(BadRequest):
        record.search("DocumentReference", "_include=DocumentReference:author:Nonsense")
