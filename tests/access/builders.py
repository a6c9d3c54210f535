"""Small dedicated data sets for the access-policy tests, written by a trusted system with PUT and fixed ids.

Everything here is synthetic. Dates are computed from the real clock so that periods and the
one-month INVISIBLE_PATIENT rule are evaluated the way the server evaluates them (at query time).
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient

from fhir_server.access.decisions import ACCESS_MODE_SYSTEM, VISIBILITY_SYSTEM
from tests.conftest import Api, token_for

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
RECIPIENT = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}

MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX = (
    "MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX")


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def days(n: float) -> str:
    """An instant n days from now (negative: in the past)."""
    return iso(now() + timedelta(days=n))


def birth_date(years: int, extra_days: int = 0) -> str:
    """A birth date `years` years ago (minus extra_days): birth_date(10) is a ten-year-old."""
    today = now().date()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        born = today.replace(year=today.year - years, day=28)
    return (born - timedelta(days=extra_days)).isoformat()


def ok(response, *codes: int) -> dict:
    codes = codes or (200, 201)
    assert response.status_code in codes, f"{response.request.method} {response.request.url}: " \
                                          f"{response.status_code} {response.text}"
    return response.json() if response.content else {}


def put(api: Api, resource: dict) -> dict:
    return ok(api.put(f"{resource['resourceType']}/{resource['id']}", resource))


# -- identifiers (test INS, RPPS, FINESS), derived from the readable id so that they are stable ----------
INS_NIR_TEST = "urn:oid:1.2.250.1.213.1.4.10"
INS_TYPE = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
RPPS, FINESS = "https://rpps.esante.gouv.fr", "https://finess.esante.gouv.fr"


def _digits(text: str, n: int) -> str:
    import hashlib
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16))[:n]


def _luhn(number: str) -> str:
    total = 0
    for i, d in enumerate(reversed(number)):
        v = int(d) * (2 if i % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return number + str((10 - total % 10) % 10)


def nir(id: str) -> str:
    first = "2" + _digits(id, 12)
    return first + f"{97 - int(first) % 97:02d}"


def rpps(id: str) -> str:
    return _luhn("10" + _digits(id, 8))


def finess(id: str) -> str:
    return _luhn(_digits(id, 8))


# -- resources ------------------------------------------------------------------------------------
def patient(id: str, *, birth: str = "1970-05-05", gps: tuple[str, ...] = (), closed: bool = False) -> dict:
    resource = {"resourceType": "Patient", "id": id,
                "identifier": [{"use": "official", "system": INS_NIR_TEST, "value": nir(id),
                                "type": {"coding": [{"system": INS_TYPE, "code": "INS-NIR-TEST"}]}}],
                "name": [{"family": id.upper(), "given": ["Test"]}], "gender": "female", "birthDate": birth}
    if gps:
        resource["generalPractitioner"] = [{"reference": f"Practitioner/{g}"} for g in gps]
    if closed:
        resource["extension"] = [{
            "url": "https://dmp-fhir-server.example/fhir/StructureDefinition/dmp-status",
            "extension": [{"url": "status", "valueCode": "FERME"},
                          {"url": "closureDate", "valueDateTime": days(-10)},
                          {"url": "closureReason", "valueString": "test"}]}]
    return resource


def practitioner(id: str) -> dict:
    return {"resourceType": "Practitioner", "id": id, "identifier": [{"system": RPPS, "value": rpps(id)}],
            "name": [{"family": id.upper(), "prefix": ["Dr"]}]}


def organization(id: str) -> dict:
    return {"resourceType": "Organization", "id": id, "identifier": [{"system": FINESS, "value": finess(id)}],
            "name": id}


def practitioner_role(id: str, practitioner_id: str, organization_id: str, *, active: bool = True) -> dict:
    """Where a professional works: the only ground for acting for an organisation (issue 10, class 3)."""
    return {"resourceType": "PractitionerRole", "id": id, "active": active,
            "practitioner": {"reference": f"Practitioner/{practitioner_id}"},
            "organization": {"reference": f"Organization/{organization_id}"}}


def label(code: str) -> dict:
    return {"coding": [{"system": VISIBILITY_SYSTEM, "code": code}]}


def document(id: str, patient_id: str, authors: tuple[str, ...], *, labels: tuple[str, ...] = (),
             date: str | None = None, status: str = "current", description: str | None = None) -> dict:
    resource = {
        "resourceType": "DocumentReference", "id": id, "status": status,
        "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4", "display": "Consult note"}]},
        "category": [{"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/"
                                            "TRE-A03-ClasseDocument", "code": "10"}]}],
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": date or days(-2),
        "author": [{"reference": a} for a in authors],
        "description": description or f"Document fictif {id}",
        "securityLabel": [{"coding": [{"system": CONFIDENTIALITY, "code": "N"}]}] + [label(c) for c in labels],
        "content": [{"attachment": {"contentType": "text/plain",
                                    "data": base64.b64encode(b"Document fictif").decode()}}],
    }
    return resource


def care_team(id: str, patient_id: str, members: tuple[str, ...], *, status: str = "active",
              on_behalf_of: str | None = None) -> dict:
    participants = []
    for m in members:
        p: dict = {"member": {"reference": m}}
        if on_behalf_of:
            p["onBehalfOf"] = {"reference": on_behalf_of}
        participants.append(p)
    return {"resourceType": "CareTeam", "id": id, "status": status,
            "subject": {"reference": f"Patient/{patient_id}"}, "participant": participants}


def _consent(id: str, patient_id: str, provision: dict, rule: str, status: str = "active") -> dict:
    return {"resourceType": "Consent", "id": id, "status": status,
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                  "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": {"reference": f"Patient/{patient_id}"}, "dateTime": days(-30),
            "performer": [{"reference": f"Patient/{patient_id}"}],
            "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": rule}]},
            "provision": provision}


def permit(id: str, patient_id: str, actor: str, *, start: str | None = None, end: str | None = None,
           status: str = "active") -> dict:
    period = {"start": start or days(-30)}
    if end:
        period["end"] = end
    return _consent(id, patient_id, {"type": "permit", "period": period,
                                     "actor": [{"role": RECIPIENT, "reference": {"reference": actor}}]},
                    "OPTIN", status)


def deny(id: str, patient_id: str, actor: str, *, status: str = "active") -> dict:
    return _consent(id, patient_id, {"type": "deny", "actor": [{"role": RECIPIENT, "reference": {"reference": actor}}]},
                    "OPTOUT", status)


def deny_mode(id: str, patient_id: str, mode: str) -> dict:
    return _consent(id, patient_id, {"type": "deny", "purpose": [{"system": ACCESS_MODE_SYSTEM, "code": mode}]},
                    "OPTOUT")


def related_person(id: str, patient_id: str, *, code: str = "MTH", active: bool = True,
                   start: str = "2000-01-01", end: str | None = None) -> dict:
    period = {"start": start}
    if end:
        period["end"] = end
    return {"resourceType": "RelatedPerson", "id": id, "active": active,
            "patient": {"reference": f"Patient/{patient_id}"},
            "relationship": [{"coding": [{"system": ROLE_CODE, "code": code}]}],
            "name": [{"family": id.upper()}], "period": period}


def communication(id: str, patient_id: str, sender: str, *, in_response_to: str | None = None) -> dict:
    resource = {"resourceType": "Communication", "id": id, "status": "completed",
                "subject": {"reference": f"Patient/{patient_id}"}, "sender": {"reference": sender},
                "recipient": [{"reference": f"Patient/{patient_id}"}], "sent": days(0),
                "payload": [{"contentString": "Message fictif"}]}
    if in_response_to:
        resource["inResponseTo"] = [{"reference": in_response_to}]
    return resource


def params(**values) -> dict:
    """A Parameters resource: strings become valueString, dicts with 'reference' valueReference,
    dicts with start/end valuePeriod, booleans valueBoolean."""
    out = []
    for name, value in values.items():
        if isinstance(value, bool):
            out.append({"name": name, "valueBoolean": value})
        elif isinstance(value, dict) and "reference" in value:
            out.append({"name": name, "valueReference": value})
        elif isinstance(value, dict):
            out.append({"name": name, "valuePeriod": value})
        elif name in ("until",):
            out.append({"name": name, "valueDateTime": value})
        elif name in ("mode",):
            out.append({"name": name, "valueCode": value})
        else:
            out.append({"name": name, "valueString": value})
    return {"resourceType": "Parameters", "parameter": out}


def ref(reference: str) -> dict:
    return {"reference": reference}


# -- reading answers ------------------------------------------------------------------------------
def flat(parameters: dict) -> dict:
    """A Parameters resource as name -> value (a repeated name -> list of values; parts -> a flat dict)."""
    out: dict = {}
    for p in parameters.get("parameter") or []:
        value = flat({"parameter": p["part"]}) if "part" in p else next(
            (v for k, v in p.items() if k.startswith("value")), None)
        if p["name"] in out:
            previous = out[p["name"]]
            out[p["name"]] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            out[p["name"]] = value
    return out


def ids_of(bundle: dict, resource_type: str | None = None) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry") or []
            if "resource" in e and (resource_type is None or e["resource"]["resourceType"] == resource_type)}


def search_ids(api: Api, query: str, resource_type: str | None = None, *,
               refusal_is_empty: bool = True) -> tuple[set[str], int | None]:
    """All pages of a search: (ids, total). A search naming only records closed to the actor may be refused like
    a read (403 with an OperationOutcome): that counts as finding nothing, (set(), 0). Fails on anything else."""
    response = api.get(query)
    if response.status_code == 403 and refusal_is_empty:
        assert diagnostics(response).strip(), "a 403 must say why"
        return set(), 0
    bundle = ok(response, 200)
    total = bundle.get("total")
    found = ids_of(bundle, resource_type)
    seen = 0
    while (nxt := next((l["url"] for l in bundle.get("link") or [] if l["relation"] == "next"), None)) and seen < 50:
        seen += 1
        bundle = ok(api.client.get(nxt.replace("http://testserver", ""), headers=api.headers()), 200)
        found |= ids_of(bundle, resource_type)
    return found, total


def diagnostics(response) -> str:
    body = response.json()
    assert body.get("resourceType") == "OperationOutcome", body
    return " ".join(i.get("diagnostics", "") for i in body.get("issue") or [])


def assert_forbidden(response, *words: str) -> None:
    """403 with an OperationOutcome that says why (a diagnostics text, containing `words` if given)."""
    assert response.status_code == 403, f"{response.status_code} {response.text}"
    text = diagnostics(response)
    assert text.strip(), "a 403 must say why"
    for w in words:
        assert w.lower() in text.lower(), f"{w!r} not in {text!r}"


def assert_not_found(response) -> None:
    assert response.status_code == 404, f"{response.status_code} {response.text}"
    assert response.json().get("resourceType") == "OperationOutcome"


# -- an Api factory on any app ---------------------------------------------------------------------
class Actors:
    """`actors("Practitioner/x", mode=..., reason=...)` -> Api; `actors.system` a trusted system."""

    def __init__(self, app, client: TestClient | None = None):
        self.app, self.client = app, client or TestClient(app)
        self.system = self("Device/test-system", scope="system/*.cruds")

    def __call__(self, sub: str, **kw) -> Api:
        return Api(self.client, token_for(self.app, sub, **kw))

    def raw(self, claims: dict) -> Api:
        """A token with exactly these claims (e.g. bris_de_glace without a reason, which mint refuses)."""
        import time
        import uuid

        from jose import jwt
        full = {"iat": int(time.time()), "exp": int(time.time()) + 600, "jti": uuid.uuid4().hex, **claims}
        return Api(self.client, jwt.encode(full, self.app.state.tokens.secret, algorithm="HS256"))
