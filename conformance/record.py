"""Records live answers of every interaction kind, in JSON and in XML, for the HL7 validator.

    python3 conformance/record.py http://127.0.0.1:PORT OUT_DIR

The server must be a development-mode `dmp-fhir serve` on its seed data (POST /dev/token mints the tokens).
Each answer with a body is written as OUT_DIR/NN-name.json and OUT_DIR/NN-name.xml (the same request asked
with Accept: application/fhir+xml). Standard library only, so it runs wherever the server does.
"""

from __future__ import annotations

import json
import sys
import uuid
import urllib.error
import urllib.request
from pathlib import Path

JSON_CT, XML_CT = "application/fhir+json", "application/fhir+xml"
CLAIRE = "Patient/pat-claire-martin"
MASKED_DOC = "DocumentReference/doc-claire-martin-cr-consultation-gynecologie-2026-05"
INS = "urn:oid:1.2.250.1.213.1.4.10"
CLASSES = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"


class Recorder:
    def __init__(self, base: str, out: Path):
        self.base, self.out, self.count = base.rstrip("/"), out, 0
        out.mkdir(parents=True, exist_ok=True)
        self.tokens = {who: self.token(who) for who in ("Device/conformance", "Practitioner/pra-antoine-lefebvre",
                                                        "Patient/pat-claire-martin", "Practitioner/pra-olivier-lambert-blocked")}

    def token(self, sub: str) -> str:
        body = {"as": sub, "scope": "system/*.cruds"} if sub.startswith("Device/") else {"as": sub}
        _, raw = self.http("POST", f"{self.base}/dev/token", json.dumps(body).encode(), {"Content-Type": "application/json"})
        return json.loads(raw)["access_token"]

    @staticmethod
    def http(method: str, url: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def fhir(self, name: str, method: str, path: str, body=None, who: str | None = "Device/conformance",
             headers: dict | None = None) -> dict | None:
        """The request sent twice, asking for JSON then for XML (a write is made twice); the JSON answer returned."""
        result = None
        for fmt, accept in (("json", JSON_CT), ("xml", XML_CT)):
            sent = {"Accept": accept, **(headers or {})}
            if body is not None:
                sent["Content-Type"] = headers.get("Content-Type", JSON_CT) if headers else JSON_CT
            if who:
                sent["Authorization"] = f"Bearer {self.tokens[who]}"
            data = json.dumps(body() if callable(body) else body).encode() if body is not None else None
            status, raw = self.http(method, f"{self.base}/fhir/{path}".rstrip("/"), data, sent)
            print(f"{status} {method} {path} ({fmt})")
            if raw:
                (self.out / f"{self.count:02d}-{name}.{fmt}").write_bytes(raw)
            if fmt == "json" and raw:
                result = json.loads(raw)
        self.count += 1
        return result


def _without_id(resource: dict) -> dict:
    return {k: v for k, v in resource.items() if k not in ("id", "meta")}


def patient(ins: str, family: str) -> dict:
    return {"resourceType": "Patient", "identifier": [{"use": "official", "system": INS, "value": ins}],
            "name": [{"use": "official", "family": family, "given": ["Camille"]}], "gender": "female",
            "birthDate": "1980-04-02"}


def provide_bundle() -> dict:
    """IHE MHD ITI-65 Provide Document Bundle for Claire Martin, by urn:uuid."""
    doc, binary, sset = (f"urn:uuid:0000000{n}-0000-4000-8000-00000000c0de" for n in (1, 2, 3))
    author = {"reference": "Practitioner/pra-antoine-lefebvre"}
    entries = [
        (binary, {"resourceType": "Binary", "contentType": "text/plain", "data": "Q29tcHRlIHJlbmR1"}),
        (doc, {"resourceType": "DocumentReference", "status": "current",
               "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
               "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4"}]},
               "category": [{"coding": [{"system": CLASSES, "code": "10", "display": "Compte rendu"}]}],
               "subject": {"reference": CLAIRE}, "author": [author], "date": "2026-11-20T10:00:00+01:00",
               "content": [{"attachment": {"contentType": "text/plain", "url": binary}}]}),
        (sset, {"resourceType": "List", "status": "current", "mode": "working",
                "code": {"coding": [{"system": "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes",
                                     "code": "submissionset"}]},
                "subject": {"reference": CLAIRE}, "source": author, "date": "2026-11-20T10:00:00+01:00",
                "entry": [{"item": {"reference": doc}}]}),
    ]
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [{"fullUrl": url, "resource": res, "request": {"method": "POST", "url": res["resourceType"]}}
                      for url, res in entries]}


def tour(r: Recorder) -> None:
    r.fhir("metadata", "GET", "metadata", who=None)
    r.fhir("vread", "GET", f"{CLAIRE}/_history/1")
    first = r.fhir("search-include", "GET", f"DocumentReference?patient={CLAIRE}&_include=DocumentReference:author&_count=2")
    following = [link["url"] for link in first.get("link", []) if link["relation"] == "next"]
    r.fhir("search-page-2", "GET", following[0].split("/fhir/", 1)[1])
    r.fhir("search-empty", "GET", "Patient?family=nobody-by-that-name")
    r.fhir("search-count", "GET", "DocumentReference?_summary=count")
    r.fhir("search-list", "GET", f"List?patient={CLAIRE}")
    r.fhir("history-instance", "GET", f"{CLAIRE}/_history")
    r.fhir("history-type", "GET", "Practitioner/_history?_count=3")
    created = r.fhir("create", "POST", "Patient", patient("280049912345678", "Conformance"))
    pid = created["id"]
    r.fhir("read-created", "GET", f"Patient/{pid}")
    claire = r.fhir("read", "GET", CLAIRE)
    r.fhir("conditional-create-match", "POST", "Patient", _without_id(claire),
           headers={"If-None-Exist": f"identifier={INS}|284066938441230"})
    r.fhir("update", "PUT", f"Patient/{pid}", {**patient("280049912345678", "Conformance"), "id": pid, "gender": "other"})
    r.fhir("patch", "PATCH", f"Patient/{pid}", [{"op": "replace", "path": "/gender", "value": "female"}],  # type: ignore[arg-type]
           headers={"Content-Type": "application/json-patch+json"})
    r.fhir("transaction-iti65", "POST", "", provide_bundle)  # called per send: a new masterIdentifier each time
    r.fhir("batch", "POST", "", {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": CLAIRE}}, {"request": {"method": "GET", "url": "Patient/missing"}}]})
    r.fhir("everything", "GET", f"{CLAIRE}/$everything", who="Practitioner/pra-antoine-lefebvre")
    r.fhir("op-unmask", "POST", f"{MASKED_DOC}/$unmask", {"resourceType": "Parameters"}, who="Patient/pat-claire-martin")
    r.fhir("op-mask", "POST", f"{MASKED_DOC}/$mask", {"resourceType": "Parameters"}, who="Patient/pat-claire-martin")
    r.fhir("read-document", "GET", MASKED_DOC)
    r.fhir("read-auditevents", "GET", f"AuditEvent?patient={CLAIRE}&_count=3")
    r.fhir("delete", "DELETE", f"Patient/{pid}")
    r.fhir("error-401", "GET", CLAIRE, who=None)
    r.fhir("error-404", "GET", "Patient/does-not-exist")
    r.fhir("error-410", "GET", f"Patient/{pid}")
    r.fhir("error-400", "GET", "Patient?birthdate=not-a-date")
    r.fhir("error-422", "POST", "Patient", {"resourceType": "Patient", "gender": "xx"})
    r.fhir("error-412", "PUT", CLAIRE, claire, headers={"If-Match": 'W/"999"'})
    r.fhir("error-403", "GET", CLAIRE, who="Practitioner/pra-olivier-lambert-blocked")


if __name__ == "__main__":
    recorder = Recorder(sys.argv[1], Path(sys.argv[2]))
    tour(recorder)
    print(f"recorded {len(list(Path(sys.argv[2]).iterdir()))} answers in {sys.argv[2]}")
