"""Property-based fuzzing of the HTTP surface (issue 9): bodies, query strings, headers, paths and tokens.

Whatever a client sends, the answer is never a 5xx, always a FHIR OperationOutcome when it is an error, and
never a 2xx for input that is invalid by construction. Fixed seed (derandomize) and a bounded number of
cases per property, so the module runs in seconds and fails the same way every time.
"""

from __future__ import annotations

import base64
import copy
import os
import string
import time
import uuid
from contextlib import contextmanager
from urllib.parse import quote

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jose import jwt

from fhir_server.config import Settings
from fhir_server.main import create_app
from tests.audit.data import weight
from tests.conftest import TEST_SECRET
from tests.factories import document_reference, patient, practitioner

# DMP_FHIR_FUZZ_EXAMPLES=500 explores further (still derandomized) when hunting, outside CI
FUZZ = settings(max_examples=int(os.environ.get("DMP_FHIR_FUZZ_EXAMPLES", "30")), derandomize=True,
                deadline=None, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# -- the server under fuzz: one store, a patient's record, and the actors that reach it --------------------
@contextmanager
def _app(tmp_path_factory, **settings):
    """As tests/conftest.py: the embedded store, or a database of its own on DMP_FHIR_MONGODB_URI."""
    app = create_app(Settings(mongodb_uri=os.environ.get("DMP_FHIR_MONGODB_URI"),
                              db=f"test_fuzz_{uuid.uuid4().hex[:12]}", base_url="http://testserver/fhir",
                              jwks_file=None,
                              dev_secret_file=tmp_path_factory.mktemp("fuzz") / "dev-secret", **settings))
    yield app
    if not app.state.store.embedded:
        app.state.store.client.drop_database(app.state.settings.db)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with _app(tmp_path_factory, jwt_secret=TEST_SECRET) as app:
        yield _record(app)


def _record(app) -> dict:
    client = TestClient(app, raise_server_exceptions=False)
    system = app.state.tokens.mint("Device/fuzz", scope="system/*.cruds")
    headers = {"Authorization": f"Bearer {system}", "Content-Type": "application/fhir+json"}
    pid = client.post("/fhir/Patient", json=patient(), headers=headers).json()["id"]
    gp = client.post("/fhir/Practitioner", json=practitioner(), headers=headers).json()["id"]
    obs = client.post("/fhir/Observation", json=weight(pid), headers=headers).json()["id"]
    doc = client.post("/fhir/DocumentReference", json=document_reference(f"Patient/{pid}", f"Practitioner/{gp}"),
                      headers=headers).json()["id"]
    tokens = {"system": system, "holder": app.state.tokens.mint(f"Patient/{pid}"),
              "professional": app.state.tokens.mint(f"Practitioner/{gp}")}
    return {"app": app, "client": client, "tokens": tokens, "pid": pid, "obs": obs, "doc": doc}


@pytest.fixture(scope="module")
def dev_client(tmp_path_factory) -> TestClient:
    """A server in development mode (no key configured): POST /dev/token is open."""
    with _app(tmp_path_factory, jwt_secret=None) as app:
        yield TestClient(app, raise_server_exceptions=False)


def _send(server, method: str, path: str, *, actor: str = "system", body: bytes | None = None,
          headers: dict | list | None = None, token: str | None = None):
    auth = f"Bearer {token if token is not None else server['tokens'][actor]}"
    base = [(b"authorization", auth.encode("latin-1")), (b"content-type", b"application/fhir+json")]
    extra = headers.items() if isinstance(headers, dict) else (headers or [])
    wanted = {k.lower() for k, _ in extra}
    merged = [(k, v) for k, v in base if k.decode() not in wanted]
    merged += [(k.lower().encode("latin-1"), v if isinstance(v, bytes) else v.encode("latin-1")) for k, v in extra]
    return server["client"].request(method, path, content=body, headers=merged)


def _answer(r):
    """No 5xx, and every error is an OperationOutcome."""
    assert r.status_code < 500, f"{r.status_code}: {r.text[:500]}"
    if r.status_code >= 400:
        body = r.json()
        assert body["resourceType"] == "OperationOutcome" and body["issue"], r.text[:500]
    return r


def _refused(r):
    _answer(r)
    assert 400 <= r.status_code < 500, f"invalid input accepted: {r.status_code} {r.text[:300]}"
    return r


# -- strategies ----------------------------------------------------------------------------------------
# text that has tripped servers: Unicode digits, control and combining characters, huge or odd numbers
TRICKY = ["²", "١", "٣٤", "𝟘", "Ⅻ", "\x00", "\u0301", "\ud7ff", "9" * 30, "1e400", "-0", "NaN", "Infinity",
          "9999-12-31", "0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59+14:00", "%", "%ZZ", "\\,", ",", "|",
          "$", "..", "../", "Patient/", "urn:uuid:", "?", "&", "=", "W/\"1\"", "*", ":", "_", "  ", ""]
tricky_text = st.one_of(st.sampled_from(TRICKY), st.text(max_size=24),
                        st.lists(st.sampled_from(TRICKY), min_size=1, max_size=4).map("".join))
json_integers = st.integers(min_value=-2 ** 63, max_value=2 ** 63 - 1)      # what JSON (orjson) carries
json_scalars = st.one_of(st.none(), st.booleans(), json_integers,
                         st.floats(allow_nan=False, allow_infinity=False), tricky_text)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(tricky_text, inner, max_size=4)), max_leaves=12)
not_a_string = st.one_of(st.none(), st.booleans(), json_integers, st.lists(json_scalars, max_size=2),
                         st.dictionaries(st.text(max_size=4), json_scalars, max_size=2))


def _paths(value, prefix=()) -> list[tuple]:
    """Every location in a JSON document, as a tuple of keys and indexes."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, prefix + (i,))
    return out


def _set(doc, path: tuple, value):
    doc = copy.deepcopy(doc)
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


def _string_leaves(doc) -> list[tuple]:
    def leaf(path):
        node = doc
        for step in path:
            node = node[step]
        return node
    return [p for p in _paths(doc) if isinstance(leaf(p), str) and p[-1] != "resourceType"]


def _templates(server) -> list[tuple[str, dict]]:
    pid = server["pid"]
    return [("Patient", patient()), ("Observation", weight(pid)),
            ("DocumentReference", document_reference(f"Patient/{pid}"))]


@st.composite
def mutated(draw, templates):
    """A valid resource with one element replaced by any JSON value (it may or may not stay valid)."""
    resource_type, template = draw(st.sampled_from(templates))
    path = draw(st.sampled_from(_paths(template)))
    return resource_type, _set(template, path, draw(json_values))


@st.composite
def broken(draw, templates):
    """A resource that is invalid by construction: a string element made a non-string, or an unknown element."""
    resource_type, template = draw(st.sampled_from(templates))
    if draw(st.booleans()):
        path = draw(st.sampled_from(_string_leaves(template)))
        return resource_type, _set(template, path, draw(not_a_string.filter(lambda v: not isinstance(v, str))))
    name = "zz" + draw(st.text(string.ascii_letters, min_size=1, max_size=8))
    return resource_type, {**template, name: draw(json_values)}


SEARCH_NAMES = ["_id", "_count", "_sort", "_total", "_summary", "_elements", "_include", "_revinclude", "_page",
                "_has:Observation:patient:code", "_lastUpdated", "name", "name:contains", "name:exact", "family",
                "birthdate", "identifier", "identifier:of-type", "gender:not", "patient", "subject:Patient.name",
                "patient.identifier", "date", "value-quantity", "code", "code:text", "_tag", "_security",
                "security-label", "creation", "_since", "_format", "general-practitioner", "address-postalcode"]
query_params = st.lists(st.tuples(st.sampled_from(SEARCH_NAMES), tricky_text), max_size=6)
def _one_header_line(value: bytes) -> bool:
    return b"\r" not in value and b"\n" not in value and b"\x00" not in value


header_bytes = st.one_of(st.binary(max_size=24), tricky_text.map(lambda t: t.encode("utf-8"))).filter(_one_header_line)


def _query(params) -> str:
    return "&".join(f"{quote(k, safe=':._')}={quote(v, safe='')}" for k, v in params)


# -- bodies --------------------------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_fuzzed_resource_bodies_never_fail_the_server(server, data):
    resource_type, body = data.draw(mutated(_templates(server)))
    method = data.draw(st.sampled_from(["POST", "PUT"]))
    path = f"/fhir/{resource_type}"
    if method == "PUT":
        target = {"Patient": server["pid"], "Observation": server["obs"], "DocumentReference": server["doc"]}
        path += f"/{target[resource_type]}"
        body = {**body, "id": target[resource_type]}
    actor = data.draw(st.sampled_from(["system", "holder", "professional"]))
    _answer(_send(server, method, path, actor=actor, body=orjson.dumps(body)))


@FUZZ
@given(data=st.data())
def test_invalid_resources_are_refused_and_nothing_is_stored(server, data):
    resource_type, body = data.draw(broken(_templates(server)))
    store = server["app"].state.store
    before = store.count(resource_type, {})
    _refused(_send(server, "POST", f"/fhir/{resource_type}", body=orjson.dumps(body)))
    assert store.count(resource_type, {}) == before


@FUZZ
@given(value=json_values, as_text=st.booleans(), raw=st.binary(max_size=64))
def test_arbitrary_json_or_bytes_as_a_body_is_refused(server, value, as_text, raw):
    body = orjson.dumps(value) if as_text else raw
    for path in ("/fhir/Patient", "/fhir", f"/fhir/Patient/{server['pid']}/$oppose"):
        r = _send(server, "POST", path, body=body)
        if not (isinstance(value, dict) and as_text):
            _refused(r)     # not even a JSON object
        else:
            _answer(r)


@FUZZ
@given(ops=st.lists(st.fixed_dictionaries({"op": st.sampled_from(["add", "remove", "replace", "move", "copy",
                                                                    "test", "bogus"]),
                                            "path": st.one_of(st.sampled_from(["/name", "/name/0", "/name/-",
                                                                              "/birthDate", "/id", "/", "",
                                                                              "/name/0/given/9", "/meta"]),
                                                              tricky_text)},
                                           optional={"value": json_values,
                                                     "from": st.one_of(st.sampled_from(["/name", "/gender"]),
                                                                       json_values)}),
                    max_size=5),
       as_bundle=st.booleans())
def test_fuzzed_json_patches_never_fail_the_server(server, ops, as_bundle):
    if as_bundle:
        binary = {"resourceType": "Binary", "contentType": "application/json-patch+json",
                  "data": base64.b64encode(orjson.dumps(ops)).decode()}
        bundle = {"resourceType": "Bundle", "type": "batch",
                  "entry": [{"resource": binary, "request": {"method": "PATCH", "url": f"Patient/{server['pid']}"}}]}
        _answer(_send(server, "POST", "/fhir", body=orjson.dumps(bundle)))
    else:
        _answer(_send(server, "PATCH", f"/fhir/Patient/{server['pid']}", actor="holder", body=orjson.dumps(ops),
                      headers={"content-type": "application/json-patch+json"}))


@FUZZ
@given(parts=st.lists(st.lists(st.tuples(st.sampled_from(["type", "path", "name", "value", "index", "source",
                                                          "destination", "bogus"]),
                                         st.sampled_from(["valueString", "valueCode", "valueInteger",
                                                          "valueBoolean", "part", "resource"]),
                                         json_values), max_size=5), max_size=3))
def test_fuzzed_fhirpath_patches_never_fail_the_server(server, parts):
    parameters = {"resourceType": "Parameters", "parameter": [
        {"name": "operation", "part": [{"name": n, kind: v} for n, kind, v in op]} for op in parts]}
    _answer(_send(server, "PATCH", f"/fhir/Patient/{server['pid']}", body=orjson.dumps(parameters)))


@FUZZ
@given(entries=st.lists(st.fixed_dictionaries({}, optional={
    "fullUrl": st.one_of(st.just("urn:uuid:1"), json_values),
    "resource": st.one_of(st.just(patient()), json_values),
    "request": st.one_of(st.fixed_dictionaries(
        {"method": st.one_of(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]), json_values),
         "url": st.one_of(st.sampled_from(["Patient", "Patient?name=x", "Patient/x", "Patient/x/_history/1",
                                           "Observation?patient=urn:uuid:1", "_history", "metadata", "$x"]),
                          tricky_text, json_values)},
        optional={"ifNoneExist": json_values, "ifMatch": json_values, "ifNoneMatch": json_values}),
        json_values)}), max_size=4),
    kind=st.sampled_from(["transaction", "batch", "searchset", None]))
def test_fuzzed_bundles_never_fail_the_server(server, entries, kind):
    _answer(_send(server, "POST", "/fhir", body=orjson.dumps({"resourceType": "Bundle", "type": kind,
                                                              "entry": entries})))


@FUZZ
@given(name=st.sampled_from(["$oppose", "$withdraw-opposition", "$authorize", "$oppose-emergency-access",
                             "$close-dmp", "$everything", "$access-status", "$access-list", "$mask"]),
       params=st.lists(st.fixed_dictionaries({"name": st.one_of(st.sampled_from(["actor", "mode", "withdraw",
                                                                                "period", "reason", "until"]),
                                                                json_values)},
                                             optional={"valueReference": json_values, "valueString": json_values,
                                                       "valueBoolean": json_values, "valuePeriod": json_values,
                                                       "valueDateTime": json_values, "valueCode": json_values}),
                       max_size=3),
       actor=st.sampled_from(["holder", "professional", "system"]))
def test_fuzzed_operations_never_fail_the_server(server, name, params, actor):
    target = f"DocumentReference/{server['doc']}" if name == "$mask" else f"Patient/{server['pid']}"
    body = orjson.dumps({"resourceType": "Parameters", "parameter": params})
    _answer(_send(server, "POST", f"/fhir/{target}/{name}", actor=actor, body=body))


# -- query strings and paths ---------------------------------------------------------------------------
@FUZZ
@given(params=query_params, resource_type=st.sampled_from(["Patient", "Observation", "DocumentReference",
                                                           "AuditEvent", ""]),
       actor=st.sampled_from(["holder", "professional", "system"]), post=st.booleans())
def test_fuzzed_searches_never_fail_the_server(server, params, resource_type, actor, post):
    path = f"/fhir/{resource_type}".rstrip("/")
    if post and resource_type:
        _answer(_send(server, "POST", f"{path}/_search", actor=actor, body=_query(params).encode(),
                      headers={"content-type": "application/x-www-form-urlencoded"}))
    else:
        _answer(_send(server, "GET", f"{path}?{_query(params)}", actor=actor))


@FUZZ
@given(name=st.text(string.ascii_letters + "-", min_size=1, max_size=10), value=tricky_text.filter(bool))
def test_unknown_search_parameters_are_refused(server, name, value):
    # (an empty value is no constraint at all, whatever the name: search/parameters.py)
    _refused(_send(server, "GET", f"/fhir/Patient?zz{quote(name)}={quote(value, safe='')}"))


@FUZZ
@given(params=st.lists(st.tuples(st.sampled_from(["_count", "_since", "_page", "_format", "_at"]), tricky_text),
                       max_size=3),
       level=st.sampled_from(["instance", "type", "system"]), version=tricky_text)
def test_fuzzed_history_and_vread_never_fail_the_server(server, params, level, version):
    base = {"instance": f"/fhir/Patient/{server['pid']}/_history", "type": "/fhir/Patient/_history",
            "system": "/fhir/_history"}[level]
    _answer(_send(server, "GET", f"{base}?{_query(params)}"))
    _answer(_send(server, "GET", f"/fhir/Patient/{server['pid']}/_history/{quote(version, safe='')}"))


@FUZZ
@given(segments=st.lists(tricky_text, min_size=1, max_size=5), method=st.sampled_from(["GET", "POST", "PUT",
                                                                                        "DELETE", "PATCH"]))
def test_fuzzed_paths_never_fail_the_server(server, segments, method):
    path = "/fhir/" + "/".join(quote(s, safe="$") for s in segments)
    _answer(_send(server, method, path, body=orjson.dumps(patient()) if method in ("POST", "PUT") else None))


# -- headers -------------------------------------------------------------------------------------------
@FUZZ
@given(headers=st.lists(st.tuples(st.sampled_from(["if-match", "if-none-exist", "if-none-match", "prefer", "accept",
                                                   "content-type", "x-request-id", "if-modified-since",
                                                   "content-length"]), header_bytes), max_size=3),
       method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "PATCH"]))
def test_fuzzed_headers_never_fail_the_server(server, headers, method):
    pid = server["pid"]
    path, body = {"GET": (f"/fhir/Patient/{pid}", None), "PUT": (f"/fhir/Patient/{pid}", {**patient(), "id": pid}),
                  "POST": ("/fhir/Patient", patient()), "DELETE": (f"/fhir/Observation/{server['obs']}", None),
                  "PATCH": (f"/fhir/Patient/{pid}", [{"op": "test", "path": "/gender", "value": "female"}])}[method]
    headers = [(k, v) for k, v in headers if k != "content-length"]   # the transport sets it
    if method == "PATCH":
        headers = [(k, v) for k, v in headers if k != "content-type"]
        headers.append(("content-type", b"application/json-patch+json"))
    _answer(_send(server, method, path, body=orjson.dumps(body) if body is not None else None, headers=headers))


@FUZZ
@given(value=header_bytes)
def test_non_numeric_if_match_is_refused(server, value):
    text = value.decode("latin-1").strip()
    if text.removeprefix("W/").strip('"').isascii() and text.removeprefix("W/").strip('"').isdigit():
        return
    pid = server["pid"]
    _refused(_send(server, "PUT", f"/fhir/Patient/{pid}", body=orjson.dumps({**patient(), "id": pid}),
                   headers=[("if-match", value)]))


# -- tokens --------------------------------------------------------------------------------------------
CLAIMS = ["sub", "scope", "purpose_of_use", "access_reason", "organization", "jti", "aud", "iss", "exp", "nbf", "iat"]


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(CLAIMS), json_values, max_size=4),
       removed=st.sets(st.sampled_from(CLAIMS), max_size=2))
def test_fuzzed_signed_tokens_never_fail_the_server(server, changes, removed):
    now = int(time.time())
    claims = {"sub": f"Patient/{server['pid']}", "scope": "patient/*.cruds", "iat": now, "exp": now + 600, **changes}
    for name in removed:
        claims.pop(name, None)
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    r = _answer(_send(server, "GET", f"/fhir/Patient/{server['pid']}", token=token))
    times_broken = any(name in claims and (not isinstance(claims[name], (int, float)) or isinstance(claims[name], bool))
                       for name in ("exp", "nbf", "iat")) or "exp" not in claims
    if times_broken:
        assert r.status_code == 401, r.text


@FUZZ
@given(token=st.one_of(tricky_text, st.lists(tricky_text, min_size=2, max_size=3).map(".".join),
                       st.tuples(st.binary(max_size=30), st.binary(max_size=30)).map(
                           lambda t: ".".join(base64.urlsafe_b64encode(p).decode().rstrip("=")
                                              for p in (*t, b"sig")))))
def test_garbage_tokens_are_401(server, token):
    if not token.strip() or not token.isascii() or any(c in token for c in "\r\n\x00"):
        return
    r = _answer(_send(server, "GET", "/fhir/Patient", token=token))
    assert r.status_code == 401, r.text


@FUZZ
@given(body=st.dictionaries(st.sampled_from(["as", "scope", "mode", "reason", "organization"]), json_values,
                            max_size=5))
def test_fuzzed_dev_token_requests_never_fail_the_server(dev_client, body):
    r = dev_client.post("/dev/token", content=orjson.dumps(body), headers={"content-type": "application/json"})
    _answer(r)
    if r.status_code == 200:
        assert isinstance(body.get("as"), str)
        assert all(isinstance(body.get(k), (str, type(None))) for k in ("scope", "mode", "reason", "organization"))

