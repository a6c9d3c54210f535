"""Inputs that once answered 500 (issue 9): each is now a 4xx OperationOutcome naming the problem."""

import time

import pytest
from fastapi.testclient import TestClient
from jose import jwt

from fhir_server.main import create_app
from tests.conftest import TEST_SECRET
from tests.factories import patient
from tests.stores import requires


def _issue(r, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]


@pytest.fixture
def pid(system) -> str:
    return system.post("Patient", patient()).json()["id"]


@pytest.mark.parametrize("version", ["%C2%B2", "%D9%A1"])   # '²' (isdigit, not int) and Arabic-Indic one
def test_vread_of_a_unicode_digit_version_is_404(system, pid, version):
    issue = _issue(system.get(f"Patient/{pid}/_history/{version}"), 404)
    assert "no version" in issue["diagnostics"]


def test_history_count_of_a_unicode_digit_is_400(system, pid):
    issue = _issue(system.get(f"Patient/{pid}/_history?_count=%C2%B2"), 400)
    assert issue["expression"] == ["_count"]
    _issue(system.get("Patient?_count=%D9%A1"), 400)      # int('١') is 1: a search refuses it too


@pytest.mark.parametrize("etag", [b'W/"\xb2"', b'W/"\xc3\xa9"', b"\xff\xfe"])
def test_if_match_with_non_ascii_bytes_is_400_and_changes_nothing(system, client, pid, etag):
    headers = [(k.encode(), v.encode()) for k, v in system.headers().items()] + [(b"if-match", etag)]
    r = client.request("PUT", f"/fhir/Patient/{pid}", json={**patient(family="Autre"), "id": pid}, headers=headers)
    assert "If-Match" in _issue(r, 400)["diagnostics"]
    assert system.get(f"Patient/{pid}").json()["meta"]["versionId"] == "1"


@requires("elemmatch_subdocuments")     # date searches
@pytest.mark.parametrize("value", ["9999-12-31", "9999", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-14:00"])
def test_dates_at_the_ends_of_time_are_stored_and_found(system, value):
    body = patient(birthDate=value) if "T" not in value else patient(deceasedDateTime=value)
    created = system.post("Patient", body)
    assert created.status_code == 201, created.text
    param = "birthdate" if "T" not in value else "death-date"
    found = system.get(f"Patient?{param}={value.replace('+', '%2B')}").json()
    assert [e["resource"]["id"] for e in found.get("entry", [])] == [created.json()["id"]]


@requires("elemmatch_subdocuments")     # date searches
@pytest.mark.parametrize("query", ["birthdate=ap9999-12-31", "birthdate=ap0001", "_lastUpdated=ap9999"])
def test_approximate_dates_at_the_ends_of_time_search(system, pid, query):
    assert system.get(f"Patient?{query}").status_code == 200


def test_since_pushed_out_of_range_by_its_offset_is_400(system, pid):
    issue = _issue(system.get(f"Patient/{pid}/_history?_since=0001-01-01T00:00:00%2B14:00"), 400)
    assert issue["expression"] == ["_since"]


@pytest.mark.parametrize("value", ["1e400", "-1e400", "0e999", "ap1e400|http://unitsofmeasure.org|mg"])
def test_quantity_beyond_a_double_is_400(system, value):
    issue = _issue(system.get(f"Observation?value-quantity={value}"), 400)
    assert "finite" in issue["diagnostics"]


@pytest.mark.parametrize("kind", ["transaction", "batch"])
@pytest.mark.parametrize("field, value", [("ifNoneExist", 5), ("ifNoneExist", {"identifier": "x"}),
                                          ("ifMatch", ["W/\"1\""])])
def test_bundle_entry_condition_that_is_not_a_string_is_400(system, kind, field, value):
    entry = {"fullUrl": "urn:uuid:1", "resource": patient(),
             "request": {"method": "POST", "url": "Patient", field: value}}
    r = system.post("", {"resourceType": "Bundle", "type": kind, "entry": [entry]})
    if kind == "transaction":
        issue = _issue(r, 400)
    else:
        assert r.status_code == 200, r.text
        response = r.json()["entry"][0]["response"]
        assert response["status"] == "400"
        issue = response["outcome"]["issue"][0]
    assert issue["expression"] == [f"Bundle.entry[0].request.{field}"]
    assert system.get("Patient").json()["total"] == 0


def _claims(**kw):
    now = int(time.time())
    return {"sub": "Device/feed", "scope": "system/*.cruds", "iat": now, "exp": now + 600, **kw}


def _token(claims: dict) -> str:
    return jwt.encode(claims, TEST_SECRET, algorithm="HS256")


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", [None, [1], {"at": 1}, "9999999999", True, 10 ** 400, float("nan")])
def test_signed_token_with_a_time_claim_that_is_not_a_number_is_401(client, claim, value):
    token = _token(_claims(**{claim: value}))
    issue = _issue(client.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"}), 401)
    assert issue["code"] == "login" and f"'{claim}'" in issue["diagnostics"]


def test_token_without_exp_is_401(client):
    claims = _claims()
    del claims["exp"]
    issue = _issue(client.get("/fhir/Patient", headers={"Authorization": f"Bearer {_token(claims)}"}), 401)
    assert "'exp'" in issue["diagnostics"]


def test_token_issued_a_year_ahead_is_401(client):
    token = _token(_claims(iat=int(time.time()) + 365 * 86400))
    issue = _issue(client.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"}), 401)
    assert "future" in issue["diagnostics"]


def test_token_issued_within_clock_skew_is_accepted(client):
    token = _token(_claims(iat=int(time.time()) + 30, nbf=int(time.time()) + 30))
    assert client.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize("option", ["reason", "scope", "mode", "organization"])
@pytest.mark.parametrize("value", [5, ["x"], {"a": 1}, True])
def test_dev_token_option_that_is_not_a_string_is_400(settings, option, value):
    dev = TestClient(create_app(settings.model_copy(update={"jwt_secret": None})))
    body = {"as": "Practitioner/p1", "mode": "bris_de_glace", "reason": "patient inconscient", option: value}
    issue = _issue(dev.post("/dev/token", json=body), 400)
    assert issue["expression"] == [option]


@pytest.mark.parametrize("given", [b"\x80\xff", "é".encode(), b"a b", b"a;b=c"])
def test_request_id_that_is_not_a_plain_token_is_replaced(system, client, given):
    headers = [(k.encode(), v.encode()) for k, v in system.headers().items()] + [(b"x-request-id", given)]
    r = client.get("/fhir/Patient", headers=headers)
    assert r.status_code == 200
    assert r.headers["X-Request-Id"] != given.decode("latin-1") and len(r.headers["X-Request-Id"]) == 32


@pytest.mark.parametrize("query", ["_since=x", "_count=%C2%B2", "start=2020&end=2021", "_type=Observation"])
def test_everything_refuses_the_parameters_it_does_not_implement(system, pid, query):
    issue = _issue(system.get(f"Patient/{pid}/$everything?{query}"), 400)
    assert "takes no parameters" in issue["diagnostics"]
    assert system.get(f"Patient/{pid}/$everything").status_code == 200
