"""The framework's ceiling: a bare FastAPI `async def` route returning a fixed Patient via orjson.

No authentication, no store, no audit: what FastAPI + uvicorn cost on this machine for a
response of the same size as `GET /fhir/Patient/{id}`. `benchmarks/rest.py` serves it with

    python -m uvicorn baseline_app:app --app-dir benchmarks --host 127.0.0.1 --port P --log-level warning
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI
from fastapi.responses import Response

INS_NIR_TEST = "urn:oid:1.2.250.1.213.1.4.10"

PATIENT = {
    "resourceType": "Patient",
    "id": "bench",
    "meta": {"versionId": "1", "lastUpdated": "2026-01-01T00:00:00.000+00:00"},
    "identifier": [{
        "use": "official",
        "system": INS_NIR_TEST,
        "value": "279035121518989",
        "type": {"coding": [{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                             "code": "INS-NIR-TEST"}]},
    }],
    "name": [{"use": "official", "family": "Martin", "given": ["Claire"]}],
    "gender": "female",
    "birthDate": "1979-03-12",
}
BODY = orjson.dumps(PATIENT)
HEADERS = {"ETag": 'W/"1"', "Last-Modified": "Thu, 01 Jan 2026 00:00:00 GMT"}

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/fhir/metadata")
async def metadata() -> Response:
    return Response(b'{"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"4.0.1"}',
                    media_type="application/fhir+json")


@app.get("/fhir/Patient/{patient_id}")
async def read_patient(patient_id: str) -> Response:
    return Response(BODY, media_type="application/fhir+json", headers=HEADERS)
