"""`dmp-fhir seed --patients N`: a larger, consistent synthetic record set, loaded through the API path.

Deterministic for a given N. One GP (médecin traitant) per 25 patients, a specialist per 100 with an
authorisation on a third of them, a care team on a fifth; 1 to 4 documents per patient with their Binary,
one in twelve masked by the holder; and one read of each record by its GP, so every record has traces.
All identifiers are fake: INS on the test OID with a valid key, RPPS and FINESS in the test ranges."""

from __future__ import annotations

import base64
import random
import sys
from typing import Callable, Iterator

from .auth.actor import Actor, Scope
from .seeding import SEED_ACTOR
from .services.context import Context, Interaction
from .services.dispatch import dispatch

INS_TEST = "urn:oid:1.2.250.1.213.1.4.10"
IDENTIFIER_TYPES = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
RPPS = "https://rpps.esante.gouv.fr"
FINESS = "https://finess.esante.gouv.fr"
CLASS = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
VISIBILITY = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
DMP_STATUS = "https://dmp-fhir-server.example/fhir/StructureDefinition/dmp-status"
FAMILIES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
            "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier"]
GIVEN = {"female": ["Claire", "Sophie", "Inès", "Camille", "Léa", "Manon"],
         "male": ["Paul", "Hugo", "Lucas", "Karim", "Jean", "Louis"]}
DOCUMENTS = [("10", "11488-4", "Compte rendu de consultation"), ("11", "34133-9", "Synthèse"),
             ("10", "11502-2", "Compte rendu de biologie"), ("42", "57833-6", "Prescription")]
BATCH = 25


def nir(sex: int, year: int, month: int, serial: int) -> str:
    body = f"{sex}{year % 100:02d}{month:02d}69{serial // 1000 % 1000:03d}{serial % 1000:03d}"
    return body + f"{97 - int(body) % 97:02d}"


def generate(n: int) -> Iterator[dict]:
    """Transaction Bundles: the directory first, then the patients by batches of BATCH."""
    rng = random.Random(n)
    gps = [f"syn-gp-{i}" for i in range(max(1, n // 25 + 1))]
    specialists = [f"syn-spe-{i}" for i in range(max(1, n // 100 + 1))]
    yield _bundle([_organization("syn-org-msp", "690000016"), _organization("syn-org-chu", "690000024")] +
                  [_practitioner(p, i) for i, p in enumerate(gps + specialists)])
    for start in range(0, n, BATCH):
        entries = []
        for i in range(start, min(n, start + BATCH)):
            entries += _record(rng, i, gps[i // 25], specialists[i // 100])
        yield _bundle(entries)


def load_generated(store, settings, n: int, audit=None, progress: Callable[[int, int], None] | None = None) -> int:
    """Load N generated records through the dispatcher (validated, indexed, versioned); returns resources."""
    ctx = Context(store=store, settings=settings, actor=SEED_ACTOR, base_url=settings.public_base(),
                  prefer_return="minimal")
    loaded = 0
    for bundle in generate(n):
        dispatch(ctx, Interaction(kind="bundle", method="POST", body=bundle))
        loaded += len(bundle["entry"])
        if progress:
            progress(min(n, sum(1 for e in bundle["entry"] if e["request"]["url"].startswith("Patient/"))), n)
    if audit is not None:
        _read_each_record(store, settings, audit, n)
    return loaded


def progress_bar(stream=None) -> Callable[[int, int], None]:
    stream = stream or sys.stderr       # looked up when called: stderr may have been replaced since import
    done = [0]

    def show(step: int, total: int) -> None:
        done[0] += step
        filled = int(30 * done[0] / max(total, 1))
        stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done[0]}/{total} patients")
        if done[0] >= total:
            stream.write("\n")
        stream.flush()
    return show


def _read_each_record(store, settings, audit, n: int) -> None:
    """Each GP looks at their patients once: the generated records come with access traces."""
    for i in range(n):
        gp = Actor(reference=f"Practitioner/syn-gp-{i // 25}", scopes=(Scope("user", "*", "cruds"),))
        ctx = Context(store=store, settings=settings, actor=gp, base_url=settings.public_base(), audit=audit)
        dispatch(ctx, Interaction(kind="search-type", method="GET", resource_type="DocumentReference",
                                  params=[("patient", f"Patient/syn-pat-{i}")]))


def _record(rng: random.Random, i: int, gp: str, specialist: str) -> list[dict]:
    pid = f"syn-pat-{i}"
    sex = rng.choice(["female", "male"])
    year, month = rng.randint(1935, 2005), rng.randint(1, 12)
    patient = {"resourceType": "Patient", "id": pid,
               "extension": [{"url": DMP_STATUS, "extension": [{"url": "status", "valueCode": "ACTIF"}]}],
               "identifier": [{"use": "official", "system": INS_TEST, "value": nir(1 if sex == "male" else 2, year, month, i),
                               "type": {"coding": [{"system": IDENTIFIER_TYPES, "code": "INS-NIR-TEST"}]}}],
               "name": [{"use": "official", "family": rng.choice(FAMILIES), "given": [rng.choice(GIVEN[sex])]}],
               "gender": sex, "birthDate": f"{year}-{month:02d}-{rng.randint(1, 28):02d}",
               "generalPractitioner": [{"reference": f"Practitioner/{gp}"}]}
    out = [patient]
    for d in range(rng.randint(1, 4)):
        out += _document(rng, pid, f"{pid}-{d}", gp if d % 2 == 0 else specialist, masked=rng.random() < 1 / 12)
    if i % 3 == 0:
        out.append(_consent(pid, specialist))
    if i % 5 == 0:
        out.append({"resourceType": "CareTeam", "id": f"{pid}-team", "status": "active",
                    "subject": {"reference": f"Patient/{pid}"},
                    "participant": [{"member": {"reference": f"Practitioner/{specialist}"}}]})
    return out


def _document(rng, pid: str, doc_id: str, author: str, masked: bool) -> list[dict]:
    klass, loinc, title = rng.choice(DOCUMENTS)
    text = base64.b64encode(f"Document fictif : {title}".encode()).decode()
    labels = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}]}]
    if masked:
        labels.append({"coding": [{"system": VISIBILITY, "code": "MASQUE_PS"}]})
    document = {"resourceType": "DocumentReference", "id": f"syn-doc-{doc_id}", "status": "current",
                "type": {"coding": [{"system": "http://loinc.org", "code": loinc, "display": title}]},
                "category": [{"coding": [{"system": CLASS, "code": klass}]}],
                "subject": {"reference": f"Patient/{pid}"},
                "date": f"{rng.randint(2022, 2026)}-{rng.randint(1, 9):02d}-{rng.randint(10, 28)}T10:00:00+02:00",
                "author": [{"reference": f"Practitioner/{author}"}], "securityLabel": labels,
                "content": [{"attachment": {"contentType": "text/plain", "url": f"Binary/syn-bin-{doc_id}"}}]}
    binary = {"resourceType": "Binary", "id": f"syn-bin-{doc_id}", "contentType": "text/plain", "data": text,
              "securityContext": {"reference": f"DocumentReference/syn-doc-{doc_id}"}}
    return [document, binary]


def _consent(pid: str, specialist: str) -> dict:
    return {"resourceType": "Consent", "id": f"{pid}-auth", "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                  "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": {"reference": f"Patient/{pid}"},
            "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
            "provision": {"type": "permit", "actor": [{"role": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]},
                "reference": {"reference": f"Practitioner/{specialist}"}}]}}


def _organization(id: str, finess: str) -> dict:
    return {"resourceType": "Organization", "id": id, "name": id.replace("syn-org-", "").upper(),
            "identifier": [{"system": FINESS, "value": finess}]}


CANONICAL_BASE = "https://dmp-fhir-server.example/fhir"


def _practitioner(id: str, i: int) -> dict:
    return {"resourceType": "Practitioner", "id": id, "identifier": [{"system": RPPS, "value": f"10{i:09d}"}],
            "name": [{"family": FAMILIES[i % len(FAMILIES)], "given": [GIVEN["male"][i % 6]], "prefix": ["Dr"]}]}


def _bundle(resources: list[dict]) -> dict:
    # fullUrl as in seed_data/: the entry's absolute URL, against which its relative references resolve
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [{"fullUrl": f"{CANONICAL_BASE}/{r['resourceType']}/{r['id']}", "resource": r,
                       "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources]}

