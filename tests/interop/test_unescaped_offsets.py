"""HAPI's client writes `_since` and date values with an unescaped '+' in the offset; a query string reads it
as a space. The server restores it, as HAPI's own server does (issue 11, item 5)."""

from __future__ import annotations

from tests.factories import patient
from tests.stores import requires


def test_history_since_with_unescaped_plus(system):
    pid = system.post("Patient", patient()).json()["id"]
    response = system.get(f"Patient/{pid}/_history?_since=2020-12-01T18:31:52.466+00:00")
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["type"] == "history" and [e["resource"]["id"] for e in bundle["entry"]] == [pid]
    later = system.get(f"Patient/{pid}/_history?_since=2099-12-01T18:31:52+01:00").json()
    assert "entry" not in later


def test_history_since_still_refuses_garbage(system):
    response = system.get("Patient/_history?_since=2020-12-01T18:31:52 garbage")
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["_since"] and "not a date or instant" in issue["diagnostics"]


@requires("elemmatch_subdocuments")     # _lastUpdated is a date search
def test_last_updated_search_with_unescaped_plus(system):
    pid = system.post("Patient", patient()).json()["id"]
    found = system.get("Patient?_lastUpdated=gt2020-01-01T00:00:00+02:00").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [pid]
    none = system.get("Patient?_lastUpdated=gt2099-01-01T00:00:00.000+02:00").json()
    assert none["total"] == 0 and "entry" not in none
