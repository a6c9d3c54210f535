"""history at instance, type and system level, _since, _count and next links."""

import time

from tests.factories import patient, practitioner


def _ids(bundle):
    return [(e["request"]["method"], e["fullUrl"].rsplit("/", 2)[-2:]) for e in bundle["entry"]]


def test_instance_history_newest_first_with_methods(system):
    created = system.post("Patient", patient()).json()
    pid = created["id"]
    system.put(f"Patient/{pid}", {**created, "gender": "male"})
    system.delete(f"Patient/{pid}")
    b = system.get(f"Patient/{pid}/_history").json()
    assert b["type"] == "history" and b["total"] == 3
    assert [e["request"]["method"] for e in b["entry"]] == ["DELETE", "PUT", "POST"]
    assert [e["response"]["etag"] for e in b["entry"]] == ['W/"3"', 'W/"2"', 'W/"1"']
    assert "resource" not in b["entry"][0]
    assert b["entry"][1]["resource"]["gender"] == "male"


def test_instance_history_of_unknown_is_404(system):
    assert system.get("Patient/nope/_history").status_code == 404


def test_type_history_only_that_type(system):
    system.post("Patient", patient())
    system.post("Practitioner", practitioner())
    b = system.get("Patient/_history").json()
    assert {e["resource"]["resourceType"] for e in b["entry"]} == {"Patient"}


def test_system_history_all_types(system):
    system.post("Patient", patient())
    system.post("Practitioner", practitioner())
    b = system.get("_history").json()
    assert {e["resource"]["resourceType"] for e in b["entry"]} == {"Patient", "Practitioner"}


def test_since_excludes_older_versions(system):
    system.post("Patient", patient(family="Ancien"))
    time.sleep(0.01)
    later = system.post("Patient", patient(family="Nouveau")).json()
    since = later["meta"]["lastUpdated"]
    b = system.get(f"Patient/_history?_since={since}").json()
    assert [e["resource"]["name"][0]["family"] for e in b["entry"]] == ["Nouveau"]


def test_count_and_next_links_walk_every_version_once(system, client):
    ids = {system.post("Patient", patient(family=f"F{i}")).json()["id"] for i in range(7)}
    seen, url = [], "Patient/_history?_count=3"
    pages = 0
    while url:
        b = system.get(url).json()
        pages += 1
        assert len(b["entry"]) <= 3
        seen += [e["resource"]["id"] for e in b["entry"]]
        nxt = [l["url"] for l in b["link"] if l["relation"] == "next"]
        url = nxt[0].split("/fhir/", 1)[1] if nxt else None
        if pages == 1:
            system.post("Patient", patient(family="written-while-paging"))
    assert pages == 3 and sorted(seen) == sorted(ids)


def test_bad_since_and_unknown_parameter_are_400(system):
    assert system.get("Patient/_history?_since=yesterday").status_code == 400
    r = system.get("Patient/_history?_foo=1")
    assert r.status_code == 400 and "_foo" in r.json()["issue"][0]["diagnostics"]
