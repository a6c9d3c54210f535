"""Authentication (401) and SMART scopes (403), development tokens."""

import time

from jose import jwt

from tests.conftest import TEST_SECRET
from tests.factories import patient


def _claims(**kw):
    now = int(time.time())
    return {"sub": "Practitioner/p1", "scope": "user/*.cruds", "iat": now, "exp": now + 600, **kw}


def _get(client, token, path="/fhir/Patient"):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_metadata_needs_no_token(client):
    r = client.get("/fhir/metadata")
    assert r.status_code == 200 and r.json()["resourceType"] == "CapabilityStatement"


def test_missing_token_is_401_with_outcome(client):
    r = client.get("/fhir/Patient")
    assert r.status_code == 401
    assert r.json()["issue"][0]["code"] == "login"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_401(client):
    token = jwt.encode(_claims(exp=int(time.time()) - 10), TEST_SECRET, algorithm="HS256")
    r = _get(client, token)
    assert r.status_code == 401 and "expired" in r.json()["issue"][0]["diagnostics"]


def test_tampered_token_is_401(client):
    token = jwt.encode(_claims(), TEST_SECRET, algorithm="HS256")
    head, payload, sig = token.split(".")
    forged = jwt.encode(_claims(sub="Practitioner/someone-else"), "another-key", algorithm="HS256").split(".")[1]
    assert _get(client, f"{head}.{forged}.{sig}").status_code == 401
    assert _get(client, jwt.encode(_claims(), "wrong-key", algorithm="HS256")).status_code == 401


def test_alg_none_token_is_401(client):
    import base64
    import json
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
    token = f"{enc({'alg': 'none', 'typ': 'JWT'})}.{enc(_claims())}."
    r = _get(client, token)
    assert r.status_code == 401 and "none" in r.json()["issue"][0]["diagnostics"]


def test_garbage_token_is_401(client):
    assert _get(client, "not.a.jwt").status_code == 401


def test_token_with_bad_sub_or_mode_is_401(client):
    assert _get(client, jwt.encode(_claims(sub="Someone"), TEST_SECRET, algorithm="HS256")).status_code == 401
    bad_mode = jwt.encode(_claims(purpose_of_use="whatever"), TEST_SECRET, algorithm="HS256")
    assert _get(client, bad_mode).status_code == 401


def test_audience_and_issuer_checked_when_configured(settings, tmp_path):
    from fastapi.testclient import TestClient
    from fhir_server.main import create_app
    app = create_app(settings.model_copy(update={"jwt_audience": "dmp", "jwt_issuer": "https://idp"}))
    client = TestClient(app)
    good = jwt.encode(_claims(aud="dmp", iss="https://idp"), TEST_SECRET, algorithm="HS256")
    assert _get(client, good).status_code == 200
    assert _get(client, jwt.encode(_claims(aud="other", iss="https://idp"), TEST_SECRET, algorithm="HS256")).status_code == 401
    assert _get(client, jwt.encode(_claims(aud="dmp", iss="https://evil"), TEST_SECRET, algorithm="HS256")).status_code == 401


def test_rs256_token_from_jwks_file(settings, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives import serialization
    from fastapi.testclient import TestClient
    from jose import jwk
    from fhir_server.main import create_app
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = jwk.construct(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo), "RS256").to_dict()
    jwks = tmp_path / "jwks.json"
    import json
    jwks.write_text(json.dumps({"keys": [{**{k: (v.decode() if isinstance(v, bytes) else v) for k, v in public.items()}, "kid": "k1"}]}))
    app = create_app(settings.model_copy(update={"jwt_secret": None, "jwks_file": jwks}))
    client = TestClient(app)
    token = jwt.encode(_claims(), pem.decode(), algorithm="RS256", headers={"kid": "k1"})
    assert _get(client, token).status_code == 200
    # an HS256 token is not accepted when only a JWKS is configured
    assert _get(client, jwt.encode(_claims(), TEST_SECRET, algorithm="HS256")).status_code == 401


def test_scope_without_create_is_403(as_actor):
    reader = as_actor("Practitioner/p1", scope="user/*.rs")
    r = reader.post("Patient", patient())
    assert r.status_code == 403 and r.json()["issue"][0]["code"] == "forbidden"
    assert reader.get("Patient").status_code == 200


def test_scope_per_type(as_actor):
    only_obs = as_actor("Practitioner/p1", scope="user/Observation.cruds")
    assert only_obs.get("Patient").status_code == 403
    assert only_obs.get("Observation").status_code == 200


def test_smart_v1_read_scope_allows_read_not_write(as_actor, system):
    pid = system.post("Patient", patient(generalPractitioner=[{"reference": "Practitioner/p1"}])).json()["id"]
    v1 = as_actor("Practitioner/p1", scope="user/*.read")
    assert v1.get(f"Patient/{pid}").status_code == 200
    assert v1.delete(f"Patient/{pid}").status_code == 403


def test_transaction_entries_checked_against_scopes(as_actor, system):
    reader = as_actor("Practitioner/p1", scope="user/*.rs")
    r = reader.post("", {"resourceType": "Bundle", "type": "transaction",
                         "entry": [{"resource": patient(), "request": {"method": "POST", "url": "Patient"}}]})
    assert r.status_code == 403
    assert system.get("Patient").json()["total"] == 0


def test_dev_token_endpoint_only_in_development_mode(settings, tmp_path, client):
    from fastapi.testclient import TestClient
    from fhir_server.main import create_app
    assert client.post("/dev/token", json={"as": "Practitioner/p1"}).status_code == 404
    dev = TestClient(create_app(settings.model_copy(update={"jwt_secret": None})))
    r = dev.post("/dev/token", json={"as": "Practitioner/p1", "scope": "user/*.rs"})
    assert r.status_code == 200
    token = r.json()["access_token"]
    assert dev.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert (tmp_path / "dev-secret").exists()
    assert dev.post("/dev/token", json={"as": "Practitioner/p1", "mode": "bris_de_glace"}).status_code == 400
    assert dev.post("/dev/token", json={"as": "nobody"}).status_code == 400
