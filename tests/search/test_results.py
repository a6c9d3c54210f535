"""Results: _count, _sort, keyset paging, _total, _summary, _elements, the Bundle and the access filter."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from fhir_server.errors import BadRequest
from fhir_server.search.engine import run_search

from ..stores import requires
from .conftest import BASE


def _next(bundle: dict, rel: str = "next") -> str | None:
    return next((l["url"] for l in bundle["link"] if l["relation"] == rel), None)


def _follow(db, url: str, **kw) -> dict:
    parts = urlsplit(url)
    rtype = parts.path.rsplit("/", 1)[-1]
    return run_search(db.store, None if rtype == "fhir" else rtype, parse_qsl(parts.query), base_url=BASE, **kw)


def _ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"]


@pytest.fixture
def many(db):
    for i in range(25):
        db.put({"resourceType": "Patient", "gender": "female" if i % 2 else "male",
                "name": [{"family": f"Fam{i % 5}", "given": [f"G{i:02d}"]}],
                "birthDate": f"19{50 + i % 7}-01-01"}, f"p{i:02d}")
    return db


def test_bundle_shape(many):
    bundle = many.search("Patient", "gender=male&_count=3")
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    assert bundle["total"] == 13
    entry = bundle["entry"][0]
    assert entry["fullUrl"] == f"{BASE}/Patient/{entry['resource']['id']}"
    assert entry["search"] == {"mode": "match"}
    assert "_idx" not in entry["resource"] and "res" not in entry["resource"]
    assert _next(bundle, "self") == f"{BASE}/Patient?gender=male&_count=3"


def test_count_default_and_cap(many):
    assert len(many.search("Patient")["entry"]) == 20
    assert len(many.search("Patient", "_count=5")["entry"]) == 5
    from fhir_server.search.compile import compile_search
    assert compile_search("Patient", [("_count", "100000")]).count == 1000


def test_sort_several_keys_and_descending(many):
    ids = _ids(many.search("Patient", "_sort=-family,given&_count=100"))
    fams = [int(i[1:]) % 5 for i in ids]
    assert fams == sorted(fams, reverse=True)
    for fam in range(5):
        group = [i for i in ids if int(i[1:]) % 5 == fam]
        assert group == sorted(group)
    dates = _ids(many.search("Patient", "_sort=birthdate,-_id&_count=100"))
    assert dates[0] == "p21" and dates[-1] == "p06"   # 1950 (p21 before p14, p07, p00) … 1956 (p06 last)


def test_pages_neither_repeat_nor_skip_under_concurrent_writes(many):
    seen: list[str] = []
    bundle = many.search("Patient", "_sort=family&_count=4")
    inserted = 0
    while True:
        seen += _ids(bundle)
        # other clients write between pages: before the cursor, after it, and delete an unseen one
        many.put({"resourceType": "Patient", "name": [{"family": "Aaa"}]}, f"new-a{inserted}")
        many.put({"resourceType": "Patient", "name": [{"family": "Zzz"}]}, f"new-z{inserted}")
        inserted += 1
        url = _next(bundle)
        if url is None:
            break
        bundle = _follow(many, url)
    assert len(seen) == len(set(seen))
    originals = [s for s in seen if s.startswith("p")]
    assert sorted(originals) == [f"p{i:02d}" for i in range(25)]
    assert all(s.startswith("new-z") for s in seen if s.startswith("new-"))   # later keys appear, earlier don't


def test_previous_link_walks_back(many):
    first = many.search("Patient", "_count=10")
    second = _follow(many, _next(first))
    back = _follow(many, _next(second, "previous"))
    assert _ids(back) == _ids(first)
    assert _next(first, "previous") is None


def test_page_token_is_bound_to_its_search(many):
    first = many.search("Patient", "gender=male&_count=5")
    token = dict(parse_qsl(urlsplit(_next(first)).query))["_page"]
    with pytest.raises(BadRequest):
        many.search("Patient", f"gender=female&_count=5&_page={token}")
    # the page size may change between pages
    assert len(many.search("Patient", f"gender=male&_count=2&_page={token}")["entry"]) == 2


def test_total_modes(many):
    assert "total" not in many.search("Patient", "_total=none")
    assert many.search("Patient", "_total=accurate&_count=1")["total"] == 25
    assert many.search("Patient", "_total=estimate&_count=1")["total"] == 25
    assert many.search("Patient", "family=fam1")["total"] == 5


def test_summary_count(many):
    bundle = many.search("Patient", "gender=female&_summary=count")
    assert bundle["total"] == 12 and "entry" not in bundle


def test_summary_true_and_elements_subset(db):
    db.put({"resourceType": "Patient", "name": [{"family": "Martin"}], "gender": "female",
            "text": {"status": "generated", "div": "<div>x</div>"}, "maritalStatus": {"text": "M"},
            "deceasedBoolean": False}, "p1")
    res = db.search("Patient", "_summary=true")["entry"][0]["resource"]
    assert "name" in res and "maritalStatus" not in res and "text" not in res and "deceasedBoolean" in res
    assert any(t["code"] == "SUBSETTED" for t in res["meta"]["tag"])
    res = db.search("Patient", "_summary=data")["entry"][0]["resource"]
    assert "text" not in res and "maritalStatus" in res
    res = db.search("Patient", "_summary=text")["entry"][0]["resource"]
    assert set(res) == {"resourceType", "id", "meta", "text"}
    res = db.search("Patient", "_elements=gender")["entry"][0]["resource"]
    assert set(res) == {"resourceType", "id", "meta", "gender"}
    res = db.search("Patient", "_summary=false")["entry"][0]["resource"]
    assert "maritalStatus" in res and "SUBSETTED" not in str(res["meta"])


def test_access_filter_narrows_results_totals_and_paging(many):
    males_only = {"res.gender": "male"}
    bundle = many.search("Patient", "_count=5", extra_filter=males_only)
    assert bundle["total"] == 13
    seen = []
    while bundle:
        seen += _ids(bundle)
        url = _next(bundle)
        bundle = _follow(many, url, extra_filter=males_only) if url else None
    assert len(seen) == 13 and len(set(seen)) == 13
    assert many.search("Patient", "_summary=count", extra_filter=males_only)["total"] == 13


@requires("elemmatch_subdocuments")
def test_system_search_by_id_and_last_updated(db):
    db.put({"resourceType": "Patient"}, "same", last_updated="2025-01-01T10:00:00Z")
    db.put({"resourceType": "Practitioner"}, "same", last_updated="2025-02-01T10:00:00Z")
    db.put({"resourceType": "Organization"}, "other", last_updated="2025-03-01T10:00:00Z")
    bundle = db.search(None, "_id=same")
    assert {e["fullUrl"] for e in bundle["entry"]} == {f"{BASE}/Patient/same", f"{BASE}/Practitioner/same"}
    assert bundle["total"] == 2
    assert db.ids(None, "_lastUpdated=ge2025-02-01") == {"same", "other"}
    assert db.ids(None, "_lastUpdated=ge2025-02-01&_type=Organization") == {"other"}
    with pytest.raises(BadRequest):
        db.search(None, "family=x")


def test_system_search_pages(db):
    for i in range(3):
        db.put({"resourceType": "Patient"}, f"p{i}")
        db.put({"resourceType": "Organization"}, f"o{i}")
    bundle, seen = db.search(None, "_count=4"), []
    while bundle:
        seen += [e["fullUrl"] for e in bundle["entry"]]
        url = _next(bundle)
        bundle = _follow(db, url) if url else None
    assert len(seen) == 6 and len(set(seen)) == 6


def test_find_matches_for_conditional_operations(db):
    from fhir_server.search.engine import find_matches
    db.put({"resourceType": "Patient", "identifier": [{"system": "http://s", "value": "1"}]}, "p1")
    db.put({"resourceType": "Patient", "identifier": [{"system": "http://s", "value": "1"}]}, "p2")
    assert {d["_id"] for d in find_matches(db.store, "Patient", "identifier=http://s|1")} == {"p1", "p2"}
    assert [d["_id"] for d in find_matches(db.store, "Patient", "?identifier=http://s|1&_id=p2")] == ["p2"]
    assert find_matches(db.store, "Patient", [("identifier", "http://s|2")]) == []
    with pytest.raises(BadRequest):
        find_matches(db.store, "Patient", "")
