"""Search through the HTTP layer: GET and POST _search, strictness, paging links, includes, totals, dates."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.factories import INS_NIR_TEST, document_reference, patient
from tests.stores import requires

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def ins(serial: int, sex: int = 2) -> str:
    """A valid INS-NIR-TEST (13 digits + key 97 - n mod 97), different for each serial."""
    body = f"{sex}790375{serial:06d}"
    return f"{body}{97 - int(body) % 97:02d}"


def create(api, resource: dict) -> dict:
    r = api.post(resource["resourceType"], resource)
    assert r.status_code == 201, r.text
    return r.json()


def search(api, path: str, **kw) -> dict:
    r = api.get(path, **kw)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resourceType"] == "Bundle" and body["type"] == "searchset"
    return body


def entries(bundle: dict, mode: str = "match") -> list[dict]:
    return [e for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def ids(bundle: dict, mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in entries(bundle, mode)]


def link(bundle: dict, relation: str) -> str | None:
    return next((l["url"] for l in bundle.get("link", []) if l["relation"] == relation), None)


def follow(api, url: str) -> dict:
    """GET a Bundle link as the server wrote it, keeping only its path and query."""
    parts = urlsplit(url)
    assert parts.path.startswith("/fhir/"), url
    r = api.client.get(f"{parts.path}?{parts.query}", headers=api.headers())
    assert r.status_code == 200, r.text
    return r.json()


def assert_outcome(response, status: int, code: str, naming: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert len(outcome["issue"]) == 1
    issue = outcome["issue"][0]
    assert issue["severity"] == "error" and issue["code"] == code
    assert naming in issue["diagnostics"]
    return issue


@pytest.fixture
def martins(system) -> list[dict]:
    """Five Martins (distinct birth dates), a Marty (family=mart finds it, family=martin does not), a Durand."""
    made = [create(system, patient(ins=ins(i), given=given, birthDate=f"19{60 + i}-0{1 + i}-1{i}"))
            for i, given in enumerate(["Claire", "Anne", "Louise", "Jade", "Inès"])]
    create(system, patient(ins=ins(10), family="Marty", given="Lina"))
    create(system, patient(ins=ins(11), family="Durand", given="Paul"))
    return made


# ---------------------------------------------------------------------------------------------- GET and POST

def test_get_and_post_search_return_the_same_bundle_entries(system, martins):
    got = search(system, "Patient?family=martin&given=claire,anne")
    r = system.post("Patient/_search", content="family=martin&given=claire,anne", headers=FORM)
    assert r.status_code == 200, r.text
    posted = r.json()
    assert posted["resourceType"] == "Bundle" and posted["type"] == "searchset"
    assert sorted(ids(got)) == sorted(m["id"] for m in martins[:2])
    assert posted["total"] == got["total"] == 2
    assert [e["fullUrl"] for e in posted["entry"]] == [e["fullUrl"] for e in got["entry"]]
    assert [e["resource"] for e in posted["entry"]] == [e["resource"] for e in got["entry"]]
    assert all(e["fullUrl"] == f"http://testserver/fhir/Patient/{e['resource']['id']}" for e in got["entry"])


def test_post_search_merges_query_and_form_parameters(system, martins):
    r = system.post("Patient/_search?family=martin", content="given=louise", headers=FORM)
    assert r.status_code == 200, r.text
    assert ids(r.json()) == [martins[2]["id"]]


def test_string_search_is_a_prefix_match_without_accents_or_case(system, martins):
    mart = search(system, "Patient?family=MART")
    assert mart["total"] == 6
    assert {e["resource"]["name"][0]["family"] for e in mart["entry"]} == {"Martin", "Marty"}
    assert set(ids(mart)) > {m["id"] for m in martins}
    assert ids(search(system, "Patient?given=ines")) == [martins[4]["id"]]
    assert ids(search(system, "Patient?family:exact=Martin&given=jade")) == [martins[3]["id"]]
    assert search(system, "Patient?family:exact=martin")["total"] == 0


def test_identifier_search_by_system_and_value(system, martins):
    bundle = search(system, "Patient", params={"identifier": f"{INS_NIR_TEST}|{ins(2)}"})
    assert ids(bundle) == [martins[2]["id"]] and bundle["total"] == 1
    assert search(system, "Patient", params={"identifier": f"urn:oid:1.2.3|{ins(2)}"})["total"] == 0


# ---------------------------------------------------------------------------------------------- strictness

def test_unknown_parameter_is_400_naming_it(system, martins):
    r = system.get("Patient?family=martin&nonsense=1")
    issue = assert_outcome(r, 400, "not-supported", "nonsense")
    assert issue["expression"] == ["nonsense"]


def test_unknown_modifier_is_400_naming_it(system, martins):
    r = system.get("Patient?family:sounds-like=martin")
    issue = assert_outcome(r, 400, "not-supported", "sounds-like")
    assert issue["expression"] == ["family:sounds-like"]


def test_unknown_parameter_in_a_post_body_is_400_too(system, martins):
    assert_outcome(system.post("Patient/_search", content="family=martin&nonsense=1", headers=FORM),
                   400, "not-supported", "nonsense")


def test_lenient_handling_ignores_and_reports_the_unknown_parameter(system, martins):
    r = system.get("Patient?family=martin&given=claire&nonsense=1", headers={"Prefer": "handling=lenient"})
    assert r.status_code == 200, r.text
    bundle = r.json()
    assert ids(bundle) == [martins[0]["id"]]
    assert bundle["total"] == 1
    outcomes = entries(bundle, "outcome")
    assert len(outcomes) == 1
    outcome = outcomes[0]["resource"]
    assert outcome["resourceType"] == "OperationOutcome"
    assert [i["severity"] for i in outcome["issue"]] == ["warning"]
    assert "nonsense" in outcome["issue"][0]["diagnostics"]
    assert outcome["issue"][0]["expression"] == ["nonsense"]


def test_lenient_handling_still_refuses_a_malformed_value(system, martins):
    r = system.get("Patient?birthdate=not-a-date&nonsense=1", headers={"Prefer": "handling=lenient"})
    issue = assert_outcome(r, 400, "invalid", "not-a-date")
    assert issue["expression"] == ["birthdate"]


# ---------------------------------------------------------------------------------------------- paging

def _walk(system, first: dict) -> tuple[list[str], list[dict]]:
    pages = [first]
    while (url := link(pages[-1], "next")) is not None:
        assert len(pages) < 10, "the next links never end"
        pages.append(follow(system, url))
    return [i for p in pages for i in ids(p)], pages


def test_count_pages_through_next_links_returning_every_match_once(system, martins):
    first = search(system, "Patient?family=martin&_count=2")
    seen, pages = _walk(system, first)
    assert [len(ids(p)) for p in pages] == [2, 2, 1]
    assert sorted(seen) == sorted(m["id"] for m in martins) and len(seen) == len(set(seen))
    assert link(pages[0], "previous") is None and link(pages[-1], "next") is None
    for page in pages:
        assert page["total"] == 5
        next_url = link(page, "next")
        if next_url:
            query = dict(parse_qsl(urlsplit(next_url).query))
            assert query["family"] == "martin" and query["_count"] == "2" and query["_page"]


def test_previous_link_returns_the_page_before(system, martins):
    first = search(system, "Patient?family=martin&_count=2")
    second = follow(system, link(first, "next"))
    back = follow(system, link(second, "previous"))
    assert ids(back) == ids(first)


def test_sorted_paging_keeps_the_order_across_pages(system, martins):
    first = search(system, "Patient?family=martin&_count=2&_sort=-birthdate")
    seen, _ = _walk(system, first)
    by_birth = sorted(martins, key=lambda m: m["birthDate"], reverse=True)
    assert seen == [m["id"] for m in by_birth]


def test_post_search_pages_through_get_next_links(system, martins):
    r = system.post("Patient/_search", content="family=martin&_count=2", headers=FORM)
    assert r.status_code == 200, r.text
    seen, pages = _walk(system, r.json())
    assert len(pages) == 3
    assert sorted(seen) == sorted(m["id"] for m in martins) and len(seen) == len(set(seen))


def test_a_page_token_with_other_criteria_is_refused(system, martins):
    first = search(system, "Patient?family=martin&_count=2")
    token = dict(parse_qsl(urlsplit(link(first, "next")).query))["_page"]
    r = system.get("Patient", params={"family": "durand", "_count": "2", "_page": token})
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"


# ---------------------------------------------------------------------------------------------- include

def test_include_subject_returns_the_patient_once_marked_include(system, martins):
    claire, anne = martins[0], martins[1]
    docs = [create(system, document_reference(f"Patient/{claire['id']}", date=f"2026-11-2{i}T10:00:00+01:00"))
            for i in range(2)]
    create(system, document_reference(f"Patient/{anne['id']}"))
    bundle = search(system, f"DocumentReference?patient=Patient/{claire['id']}&_include=DocumentReference:subject")
    assert sorted(ids(bundle)) == sorted(d["id"] for d in docs)
    assert bundle["total"] == 2
    included = entries(bundle, "include")
    assert len(included) == 1
    assert included[0]["resource"] == claire
    assert included[0]["fullUrl"] == f"http://testserver/fhir/Patient/{claire['id']}"
    assert [e["search"]["mode"] for e in bundle["entry"]] == ["match", "match", "include"]


def test_unknown_include_is_400_naming_it(system, martins):
    r = system.get("DocumentReference?_include=DocumentReference:nonsense")
    assert_outcome(r, 400, "invalid", "nonsense")


# ---------------------------------------------------------------------------------------------- deleted

def test_deleted_resources_are_not_found_by_search(system, martins):
    gone = martins[1]
    assert system.delete(f"Patient/{gone['id']}").status_code in (200, 204)
    bundle = search(system, "Patient?family=martin")
    assert gone["id"] not in ids(bundle)
    assert sorted(ids(bundle)) == sorted(m["id"] for m in martins if m is not gone)
    assert bundle["total"] == 4
    by_id = search(system, f"Patient?_id={gone['id']}")
    assert by_id["total"] == 0 and ids(by_id) == []
    assert search(system, "Patient?family=martin&_summary=count")["total"] == 4


# ---------------------------------------------------------------------------------------------- totals, summary

def test_total_accurate_counts_every_match_beyond_the_page(system, martins):
    bundle = search(system, "Patient?family=martin&_count=1&_total=accurate")
    assert bundle["total"] == 5
    assert len(ids(bundle)) == 1
    assert link(bundle, "next") is not None


def test_total_none_leaves_the_total_out(system, martins):
    bundle = search(system, "Patient?family=martin&_count=1&_total=none")
    assert "total" not in bundle and len(ids(bundle)) == 1


@pytest.mark.parametrize("name, value", [("_total", "some"), ("_summary", "maybe"), ("_count", "ten")])
def test_bad_result_parameter_is_400_naming_it(system, martins, name, value):
    issue = assert_outcome(system.get("Patient", params={"family": "martin", name: value}), 400, "invalid", value)
    assert issue["expression"] == [name]


def test_summary_count_returns_only_the_total(system, martins):
    bundle = search(system, "Patient?family=martin&_summary=count")
    assert bundle["total"] == 5
    assert bundle.get("entry", []) == []
    assert link(bundle, "self") is not None and link(bundle, "next") is None


def test_summary_true_marks_resources_subsetted(system, martins):
    bundle = search(system, "Patient?family=martin&given=claire&_summary=true")
    resource = entries(bundle)[0]["resource"]
    assert resource["id"] == martins[0]["id"] and resource["name"] == martins[0]["name"]
    assert "SUBSETTED" in [t["code"] for t in resource["meta"]["tag"]]


# ---------------------------------------------------------------------------------------------- dates

@pytest.fixture
def dated_docs(system) -> dict[str, str]:
    """DocumentReferences around Paris midnights, winter (+01:00) and summer (+02:00)."""
    subject = create(system, patient())["id"]
    when = {
        "winter-late": "2026-03-01T22:30:00Z",     # 23:30 on 1 March in Paris
        "winter-after-midnight": "2026-03-01T23:30:00Z",   # 00:30 on 2 March in Paris
        "summer-late": "2026-07-14T21:30:00Z",     # 23:30 on 14 July in Paris
        "summer-after-midnight": "2026-07-14T22:30:00Z",   # 00:30 on 15 July in Paris
    }
    return {create(system, document_reference(f"Patient/{subject}", date=d, description=name))["id"]: name
            for name, d in when.items()}


def _names(system, dated_docs, query: str) -> set[str]:
    return {dated_docs[i] for i in ids(search(system, f"DocumentReference?{query}"))}


@requires("elemmatch_subdocuments")
def test_a_day_without_offset_is_a_paris_day(system, dated_docs):
    assert _names(system, dated_docs, "date=2026-03-01") == {"winter-late"}
    assert _names(system, dated_docs, "date=2026-03-02") == {"winter-after-midnight"}
    assert _names(system, dated_docs, "date=2026-07-14") == {"summer-late"}
    assert _names(system, dated_docs, "date=2026-07-15") == {"summer-after-midnight"}


@requires("elemmatch_subdocuments")
def test_a_time_without_offset_is_paris_time(system, dated_docs):
    assert _names(system, dated_docs, "date=ge2026-03-02T00:00:00&date=lt2026-03-03") == {"winter-after-midnight"}
    assert _names(system, dated_docs, "date=lt2026-07-15T00:00:00&date=gt2026-07-01") == {"summer-late"}


@requires("elemmatch_subdocuments")
def test_an_explicit_offset_is_honoured(system, dated_docs):
    assert _names(system, dated_docs, "date=2026-03-01T23:30:00Z") == {"winter-after-midnight"}
    assert _names(system, dated_docs, "date=2026-03-01T23:30:00%2B01:00") == {"winter-late"}
    assert _names(system, dated_docs, "date=ge2026-07-14T22:00:00Z&date=le2026-07-15") == {"summer-after-midnight"}


@pytest.mark.parametrize("value, naming", [
    ("2026-13-45", "2026-13-45"),
    ("xx2026-01-01", "xx"),
    ("2026-03-01T25:00", "2026-03-01T25:00"),
    ("not-a-date", "not-a-date"),
])
def test_a_bad_date_is_400_naming_the_value(system, dated_docs, value, naming):
    r = system.get("DocumentReference", params={"date": value})
    issue = assert_outcome(r, 400, "invalid", naming)
    assert issue["expression"] == ["date"]


def test_a_bad_date_in_a_post_search_is_400(system, dated_docs):
    r = system.post("DocumentReference/_search", content="date=2026-02-30", headers=FORM)
    issue = assert_outcome(r, 400, "invalid", "2026-02-30")
    assert issue["expression"] == ["date"]


def test_patient_compartment_search_stays_in_the_record(system):
    from tests.factories import document_reference, patient
    mine = system.post("Patient", patient()).json()["id"]
    other = system.post("Patient", patient(family="Autre")).json()["id"]
    doc = system.post("DocumentReference", document_reference(f"Patient/{mine}")).json()["id"]
    system.post("DocumentReference", document_reference(f"Patient/{other}"))
    r = system.get(f"Patient/{mine}/DocumentReference?status=current")
    assert r.status_code == 200
    assert [e["resource"]["id"] for e in r.json()["entry"]] == [doc] and r.json()["total"] == 1
    assert system.get("Patient/x/Spaceship").status_code == 404
    assert system.request("POST", f"Patient/{mine}/DocumentReference").status_code == 405


def test_patient_compartment_search_applies_the_policy(system, as_actor):
    from tests.factories import document_reference, patient
    pid = system.post("Patient", patient()).json()["id"]
    system.post("DocumentReference", document_reference(f"Patient/{pid}"))
    r = as_actor("Practitioner/stranger").get(f"Patient/{pid}/DocumentReference")
    assert r.status_code == 403 and r.json()["resourceType"] == "OperationOutcome"


def test_patient_compartment_paging_links_stay_in_the_compartment(system):
    from tests.factories import document_reference, patient
    mine = system.post("Patient", patient()).json()["id"]
    other = system.post("Patient", patient(family="Autre")).json()["id"]
    docs = {system.post("DocumentReference", document_reference(f"Patient/{mine}")).json()["id"] for _ in range(3)}
    system.post("DocumentReference", document_reference(f"Patient/{other}"))
    seen, url = [], f"Patient/{mine}/DocumentReference?_count=2"
    while url:
        page = system.get(url).json()
        seen += [e["resource"]["id"] for e in page["entry"]]
        nxt = [l["url"] for l in page["link"] if l["relation"] == "next"]
        url = nxt[0].split("/fhir/", 1)[1] if nxt else None
        assert url is None or url.startswith(f"Patient/{mine}/DocumentReference?")
    assert sorted(seen) == sorted(docs)


def test_each_host_and_scheme_gets_links_of_its_own(system, app, monkeypatch):
    """Without DMP_FHIR_BASE_URL the FHIR base comes from the request: remembered per host, never another's."""
    monkeypatch.setattr(app.state.settings, "base_url", None)

    def self_link(root: str) -> str:
        bundle = system.client.get(f"{root}/fhir/Patient?family=Martin", headers=system.headers()).json()
        return next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    for root in ("http://testserver", "http://ehr.example:8443", "https://ehr.example:8443", "http://testserver"):
        assert self_link(root) == f"{root}/fhir/Patient?family=Martin"
