"""Synthetic French records for the search benchmark: N Patients, each with a few DocumentReferences.

Deterministic for a given (N, seed). The vocabulary (code systems, INS-NIR-TEST keys, RPPS/FINESS check digits,
Europe/Paris offsets) comes from seed_data/generate.py so the benchmark searches data shaped like the seed:

- Patients: an open DMP record (dmp-status ACTIF), INS-NIR-TEST identifier (valid key), official name (family
  from a list where a few start with "mart"), gender, birthDate (about 1 in 250 born on 1979-03-12), address,
  fr-core-patient profile;
- Practitioners (one per 25 patients, at least 20) and Organizations (one per 200, at least 5);
- 1 to 5 DocumentReferences per Patient (3 on average): type (LOINC), class (TRE_A03, "10" the most common),
  date 2022-2026 with its Paris offset, author = a Practitioner and its Organization, custodian, 90 % current,
  securityLabel with a confidentiality code and, for about 8 %, MASQUE_PS.

`Probe`s hold what a realistic client knows about one Patient (id, NIR, an author's family name) so that
the benchmark's queries hit existing records.
"""

from __future__ import annotations

import importlib.util
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

_SEED_GENERATOR = Path(__file__).resolve().parent.parent / "seed_data" / "generate.py"


def _load_seed_vocabulary():
    spec = importlib.util.spec_from_file_location("dmp_seed_generate", _SEED_GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


seed = _load_seed_vocabulary()

FAMILIES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
            "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
            "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez",
            "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel",
            "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine",
            "Chevalier", "Robin", "Martineau", "Haddad", "Nguyen", "Benali", "Caron", "Vidal", "Marty"]
GIVEN_FEMALE = ["Claire", "Marie", "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Emma",
                "Louise", "Jade", "Alice", "Lina", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sophie",
                "Valérie", "Christine", "Martine", "Hélène", "Anne", "Odile", "Samira", "Laura", "Élodie"]
GIVEN_MALE = ["Paul", "Jean", "Pierre", "Louis", "Lucas", "Hugo", "Gabriel", "Arthur", "Jules", "Adam",
              "Nicolas", "Julien", "Thomas", "Mehdi", "Nabil", "Philippe", "Michel", "Alain", "Patrick",
              "Robert", "Bernard", "Éric", "Olivier", "Léo", "Karim", "Antoine", "Vincent", "Marc"]
CITIES = [("Lyon", "69003", "69", "383"), ("Villeurbanne", "69100", "69", "266"), ("Paris", "75011", "75", "111"),
          ("Marseille", "13005", "13", "205"), ("Lille", "59000", "59", "350"), ("Nantes", "44000", "44", "109"),
          ("Bordeaux", "33000", "33", "063"), ("Toulouse", "31000", "31", "555")]
DOC_TYPES = ["11488-4", "34112-3", "11490-0", "15507-7", "11502-2", "18748-4", "60591-5", "57833-6", "60593-1",
             "87273-9", "89601-9"]
CLASS_OF_TYPE = {"11488-4": "10", "34112-3": "10", "11490-0": "10", "15507-7": "10", "11502-2": "10",
                 "18748-4": "31", "60591-5": "11", "57833-6": "42", "60593-1": "43", "87273-9": "45",
                 "89601-9": "52"}
SECTORS = ["SA01", "SA04", "SA08", "SA25", "SA33", "SA52"]
PROBE_BIRTHDATE = "1979-03-12"


@dataclass(frozen=True)
class Probe:
    """What a client searching for one Patient and its documents would know."""
    patient_id: str
    nir: str
    author_family: str         # the family name of the author of one of this Patient's current documents
    documents: int
    current: int               # how many of them are `current`


class Dataset:
    def __init__(self, patients: int, seed_value: int = 20261122):
        self.n = patients
        self.rng = random.Random(seed_value)
        self.n_practitioners = max(20, patients // 25)
        self.n_organizations = max(5, patients // 200)
        self.organizations = [self._organization(i) for i in range(self.n_organizations)]
        self.practitioners = [self._practitioner(i) for i in range(self.n_practitioners)]
        self.probes: list[Probe] = []

    # -- organizations and practitioners ------------------------------------------------------------
    def _organization(self, i: int) -> dict:
        city, postal, dept, _ = CITIES[i % len(CITIES)]
        sector = SECTORS[i % len(SECTORS)]
        return {
            "resourceType": "Organization", "id": f"bench-org-{i:05d}",
            "identifier": [{"system": seed.SYS_FINESS, "value": seed.finess(f"{dept}{i:06d}")}],
            "active": True,
            "type": [seed.cc(seed.CS_R02_SECTOR, sector, seed.SECTOR_DISPLAY[sector])],
            "name": f"Structure de soins {i} de {city}",
            "address": [seed.address(f"{1 + i % 90} rue de la République", postal, city)],
        }

    def _practitioner(self, i: int) -> dict:
        female = self.rng.random() < 0.5
        family = self.rng.choice(FAMILIES)
        given = self.rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
        number = seed.rpps(f"{i:08d}")
        return {
            "resourceType": "Practitioner", "id": f"bench-pra-{i:05d}",
            "identifier": [{"use": "official", "type": seed.cc(seed.CS_FR_V2_0203, "RPPS"),
                            "system": seed.SYS_RPPS, "value": number}],
            "active": True,
            "name": [{"use": "official", "family": family, "given": [given], "prefix": ["MME" if female else "M"]}],
            "gender": "female" if female else "male",
        }

    # -- patients and their documents ---------------------------------------------------------------
    def records(self) -> Iterator[tuple[dict, list[dict]]]:
        """(Patient, its DocumentReferences) for each of the N patients; fills `probes` as it goes."""
        for i in range(self.n):
            patient, nir = self._patient(i)
            docs = [self._document(i, j, patient) for j in range(self.rng.choice((1, 2, 3, 3, 4, 5)))]
            current = [d for d in docs if d["status"] == "current"]
            author = (current or docs)[0]["author"][0]["reference"].split("/")[1]
            family = self.practitioners[int(author.rsplit("-", 1)[1])]["name"][0]["family"]
            self.probes.append(Probe(patient["id"], nir, family, len(docs), len(current)))
            yield patient, docs

    def _patient(self, i: int) -> tuple[dict, str]:
        rng = self.rng
        sex = rng.choice((1, 2))
        if rng.random() < 1 / 250:
            birth = PROBE_BIRTHDATE
        else:
            birth = f"{rng.randint(1930, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        city, postal, dept, commune = CITIES[rng.randrange(len(CITIES))]
        # commune and order carry i: every NIR differs (up to a million patients)
        nir = seed.nir(sex, birth, dept, f"{(i // 1000) % 1000:03d}", i % 1000)
        family = rng.choice(FAMILIES)
        given = rng.choice(GIVEN_FEMALE if sex == 2 else GIVEN_MALE)
        patient = {
            "resourceType": "Patient", "id": f"bench-pat-{i:06d}",
            "meta": {"profile": [seed.PROFILE_FR_PATIENT]},
            "extension": [seed.dmp_status_extension(None)],     # an open record (ACTIF)
            "identifier": [seed.ins_identifier(nir)],
            "active": True,
            "name": [{"use": "official", "family": family, "given": [given]}],
            "telecom": [{"system": "email", "use": "home",
                         "value": f"{seed._slug(given)}.{seed._slug(family)}.{i}@example.com"}],
            "gender": "male" if sex == 1 else "female",
            "birthDate": birth,
            "address": [seed.address(f"{1 + i % 120} avenue Jean Jaurès", postal, city, use="home")],
        }
        return patient, nir

    def _document(self, i: int, j: int, patient: dict) -> dict:
        rng = self.rng
        doc_type = rng.choice(DOC_TYPES)
        type_system, type_display = seed.DOC_TYPES[doc_type]
        cls = CLASS_OF_TYPE[doc_type]
        pra = rng.randrange(self.n_practitioners)
        org = self.organizations[pra % self.n_organizations]
        practitioner = self.practitioners[pra]
        when = seed.dt(f"{rng.randint(2022, 2026)}-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d} "
                       f"{rng.randint(7, 19):02d}:{rng.choice((0, 15, 30, 45)):02d}")
        masked = rng.random() < 0.08
        labels = [seed.cc(seed.CS_CONFIDENTIALITY, "R" if masked else "N", "restricted" if masked else "normal")]
        if masked:
            labels.append(seed.cc(seed.CS_A07_VISIBILITY, "MASQUE_PS", seed.A07_DISPLAY["MASQUE_PS"]))
        doc_id = f"bench-doc-{i:06d}-{j}"
        sector = org["type"][0]["coding"][0]["code"]
        setting = seed.SETTING_BY_SECTOR.get(sector, "AMBULATOIRE")
        name = practitioner["name"][0]
        return {
            "resourceType": "DocumentReference", "id": doc_id,
            "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": seed.seed_uuid("bench/" + doc_id)},
            "status": "current" if rng.random() < 0.9 else "superseded",
            "type": seed.cc(type_system, doc_type, type_display),
            "category": [seed.cc(seed.CS_A03_CLASS, cls, seed.A03_DISPLAY[cls])],
            "subject": seed.ref(f"Patient/{patient['id']}",
                                f"{patient['name'][0]['given'][0]} {patient['name'][0]['family'].upper()}"),
            "date": when,
            "author": [seed.ref(f"Practitioner/{practitioner['id']}", f"{name['given'][0]} {name['family'].upper()}"),
                       seed.ref(f"Organization/{org['id']}", org["name"])],
            "custodian": seed.ref(f"Organization/{org['id']}", org["name"]),
            "description": type_display,
            "securityLabel": labels,
            "content": [{
                "attachment": {"contentType": "application/pdf", "language": "fr-FR",
                               "url": f"Binary/bench-bin-{i:06d}-{j}", "size": 20_000 + rng.randrange(200_000),
                               "title": type_display, "creation": when},
                "format": seed.coding(seed.CS_A11_FORMAT, *seed.FORMAT_BY_MIME["application/pdf"]),
            }],
            "context": {"facilityType": seed.cc(seed.CS_R02_SECTOR, sector, seed.SECTOR_DISPLAY[sector]),
                        "practiceSetting": seed.cc(seed.CS_A01_SETTING, setting, seed.SETTING_DISPLAY[setting])},
        }
