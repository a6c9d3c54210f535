"""Valid French examples that read like the domain (test INS, RPPS, FINESS)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

INS_NIR_TEST = "urn:oid:1.2.250.1.213.1.4.10"
RPPS = "https://rpps.esante.gouv.fr"
FINESS = "https://finess.esante.gouv.fr"
DMP_STATUS = "https://dmp-fhir-server.example/fhir/StructureDefinition/dmp-status"
# an existing, open record (a Patient created without it waits six weeks before it opens)
OPEN_RECORD = {"url": DMP_STATUS, "extension": [{"url": "status", "valueCode": "ACTIF"}]}


def patient(ins: str = "279035121518989", family: str = "Martin", given: str = "Claire", **extra) -> dict:
    return {
        "resourceType": "Patient",
        "extension": [OPEN_RECORD],
        "identifier": [{"use": "official", "system": INS_NIR_TEST, "value": ins,
                        "type": {"coding": [{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                                             "code": "INS-NIR-TEST"}]}}],
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": "female",
        "birthDate": "1979-03-12",
        **extra,
    }


def practitioner(rpps: str = "10003456789", family: str = "Durand", given: str = "Paul") -> dict:
    return {"resourceType": "Practitioner", "identifier": [{"system": RPPS, "value": rpps}],
            "name": [{"family": family, "given": [given], "prefix": ["Dr"]}]}


def organization(finess: str = "750712184", name: str = "CHU de Paris") -> dict:
    return {"resourceType": "Organization", "identifier": [{"system": FINESS, "value": finess}], "name": name}


DEFAULT_AUTHOR = "Practitioner/pra-factory-author"


def recent_date() -> str:
    """A day before now: a document written lately, whatever day the tests run (a fixed date ages past the rules'
    14 days and one month, and a test of a fresh hidden document starts failing on its own)."""
    return (datetime.now(timezone.utc) - timedelta(days=1)).replace(microsecond=0).isoformat()


def document_reference(subject: str, author: str = DEFAULT_AUTHOR, **extra) -> dict:
    doc = {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4", "display": "Consult note"}]},
        "category": [{"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument",
                                  "code": "10", "display": "Compte rendu"}]}],
        "subject": {"reference": subject},
        "date": recent_date(),
        "content": [{"attachment": {"contentType": "text/plain", "url": "Binary/b1"}}],
    }
    doc["author"] = [{"reference": author}]
    doc.update(extra)
    return doc
