#!/usr/bin/env python3
"""Generate the synthetic seed data set of dmp-fhir-server (FHIR R4 transaction Bundles).

    python seed_data/generate.py            # rewrites seed_data/0*.json
    python seed_data/generate.py OUT_DIR    # writes the same files elsewhere (tests compare them)

The output is deterministic: no clock, no randomness, fixed ids, stable key order. Every entry is
`PUT Type/id`, so loading the files twice leaves the store unchanged (apart from version numbers).
Files are meant to be loaded in lexical order; a file only references resources of the same file
or of an earlier one. All people, identifiers and telecoms are fake (INS values use the *test*
OID, phone numbers come from the ranges ARCEP reserves for fiction, e-mails use `.example`).
The stories the data tell are listed in seed_data/README.md; "today" for them is 2026-11-22.
"""
from __future__ import annotations

import base64
import calendar
import datetime as _dt
import hashlib
import json
import struct
import sys
import uuid
import zlib
from pathlib import Path

REFERENCE_DATE = _dt.date(2026, 11, 22)  # "today" of the stories (ages, hidden-until, periods)
HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------- code systems (shared/DMP_RULES.md)
OID_INS_NIR_TEST = "urn:oid:1.2.250.1.213.1.4.10"
CS_FR_V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
SYS_IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
SYS_RPPS = "https://rpps.esante.gouv.fr"
SYS_IDNST = "urn:oid:1.2.250.1.71.4.2.2"
SYS_FINESS = "https://finess.esante.gouv.fr"
CS_A03_CLASS = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
CS_A05_TYPE = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
CS_A07_VISIBILITY = ("https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/"
                     "TRE-A07-StatutVisibiliteDocument")
CS_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
CS_R248_ACCESS_MODE = "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/TRE-R248-ModeAcces"
CS_LOINC = "http://loinc.org"
CS_G15_PROFESSION = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
CS_R38_SPECIALTY = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
CS_R85_ROLE = "https://mos.esante.gouv.fr/NOS/TRE_R85-RolePriseCharge/FHIR/TRE-R85-RolePriseCharge"
CS_R02_SECTOR = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
CS_A00_NON_PS = "https://mos.esante.gouv.fr/NOS/TRE_A00-ProducteurDocNonPS/FHIR/TRE-A00-ProducteurDocNonPS"
CS_A01_SETTING = "https://mos.esante.gouv.fr/NOS/TRE_A01-CadreExercice/FHIR/TRE-A01-CadreExercice"
CS_A11_FORMAT = "https://mos.esante.gouv.fr/NOS/TRE_A11-IheFormatCode/FHIR/TRE-A11-IheFormatCode"
CS_ORG_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
CS_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
CS_CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CS_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CS_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CS_OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CS_COMM_CATEGORY = "http://terminology.hl7.org/CodeSystem/communication-category"
CS_APPT_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0276"
CS_DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
CS_PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
CS_MHD_LIST_TYPES = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"
UCUM = "http://unitsofmeasure.org"

PROFILE_FR_PATIENT = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient"
EXT_BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
EXT_IS_ARCHIVED = "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-ext-is-archived"
# the project's own extension for the DMP lifecycle (documented in seed_data/README.md)
EXT_DMP_STATUS = "https://dmp-fhir-server.example/fhir/StructureDefinition/dmp-status"
QUESTIONNAIRE_PROFIL_MEDICAL = "https://dmp-fhir-server.example/fhir/Questionnaire/profil-medical-ens"

A03_DISPLAY = {
    "10": "Compte rendu", "11": "Synthèse", "31": "Imagerie médicale", "42": "Prescription",
    "43": "Dispensation", "44": "Plan/protocole de soins", "45": "Traitement administré",
    "52": "Certificat/déclaration", "60": "Données de remboursement",
    "90": "Documents déposés par le patient", "95": "Document de gestion",
}
# document types: LOINC or TRE_A05 (displays as in JDV_J07 XdsTypeCode CI-SIS)
DOC_TYPES = {
    "11488-4": (CS_LOINC, "CR ou fiche de consultation ou de visite"),
    "34112-3": (CS_LOINC, "CR hospitalier (séjour)"),
    "11490-0": (CS_LOINC, "Lettre de liaison à la sortie d'un établissement de soins"),
    "15507-7": (CS_LOINC, "CR de passage aux urgences"),
    "11502-2": (CS_LOINC, "CR d'examens biologiques"),
    "18748-4": (CS_LOINC, "CR d'imagerie médicale"),
    "34794-8": (CS_LOINC, "CR de réunion de concertation pluridisciplinaire"),
    "96163-1": (CS_LOINC, "Bilan de soins infirmiers"),
    "89233-1": (CS_LOINC, "CR de grossesse"),
    "68814-3": (CS_LOINC, "Note d'évaluation pédiatrique"),
    "60591-5": (CS_LOINC, "Synthèse médicale"),
    "78489-2": (CS_LOINC, "Synthèse Enfant en Maternité"),
    "57833-6": (CS_LOINC, "Prescription de produits de santé"),
    "60593-1": (CS_LOINC, "Dispensation médicamenteuse"),
    "18776-5": (CS_LOINC, "Plan personnalisé de soins"),
    "80565-5": (CS_LOINC, "CR d'administration de médicaments"),
    "87273-9": (CS_LOINC, "Note de vaccination"),
    "89601-9": (CS_LOINC, "Certificat médical"),
    "51851-4": (CS_LOINC, "Document administratif"),
    "PROT_ALD": (CS_A05_TYPE, "Protocole de soins ALD"),
    "PRESC-BIO": (CS_A05_TYPE, "Prescription d'actes de biologie médicale"),
    "REMB": (CS_A05_TYPE, "Données de remboursement"),
    "DOCPAT03": (CS_A05_TYPE, "CR déposé par le patient"),
    "DOCPAT04": (CS_A05_TYPE, "Imagerie déposée par le patient"),
    "DOCPAT05": (CS_A05_TYPE, "CR de biologie déposé par le patient"),
    "DOCPAT07": (CS_A05_TYPE, "Certificat déposé par le patient"),
}
A07_DISPLAY = {
    "MASQUE_PS": "Masqué aux professionnels de santé",
    "INVISIBLE_PATIENT": "Non visible par le patient",
    "INVISIBLE_REPRESENTANTS_LEGAUX": "Non visible par les représentants légaux du patient",
}
SECTOR_DISPLAY = {
    "SA01": "Etablissement public de santé", "SA04": "Etablissement privé non PSPH",
    "SA08": "Cabinet de groupe", "SA15": "PMI et Planification familiale",
    "SA17": "Etablissement pour personnes âgées", "SA24": "Organisme de sécurité sociale",
    "SA25": "Laboratoire de biologie médicale", "SA33": "Pharmacie d'officine",
    "SA52": "Maison de santé ou Pôle de santé",
}
SETTING_BY_SECTOR = {  # practiceSetting (TRE_A01) derived from the custodian's sector
    "SA01": "ETABLISSEMENT", "SA04": "ETABLISSEMENT", "SA17": "ESSMS", "SA24": "AMO",
}
SETTING_DISPLAY = {"AMBULATOIRE": "Ambulatoire", "ETABLISSEMENT": "Etablissement de santé",
                   "ESSMS": "Etablissement ou Service Social ou Médico-Social",
                   "AMO": "Organisme d'assurance maladie obligatoire"}
FORMAT_BY_MIME = {
    "application/pdf": ("urn:ihe:iti:xds-sd:pdf:2008", "Document à corps non structuré en Pdf/A-1"),
    "text/plain": ("urn:ihe:iti:xds-sd:text:2008", "Document à corps non structuré en texte brut"),
    "image/png": ("urn:ihe:iti:xds:2017:mimeTypeSufficient", "Format de document défini par son type MIME"),
}


# ---------------------------------------------------------------- identifiers with check keys
def luhn_key(payload: str) -> str:
    """Luhn check digit of a digit string (RPPS, FINESS, SIREN/SIRET)."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def nir(sex: int, birth: str, dept: str, commune: str, order: int) -> str:
    """15-character NIR: sex, YY, MM, department, commune, order, key = 97 - (n mod 97)."""
    body = f"{sex}{birth[2:4]}{birth[5:7]}{dept}{commune}{order:03d}"
    assert len(body) == 13 and body.isdigit(), body
    return f"{body}{97 - int(body) % 97:02d}"


def rpps(serial: str) -> str:
    payload = "10" + serial
    assert len(payload) == 10
    return payload + luhn_key(payload)


def finess(payload: str) -> str:
    assert len(payload) == 8
    return payload + luhn_key(payload)


def siret(siren8: str, nic4: str) -> str:
    siren = siren8 + luhn_key(siren8)
    return siren + nic4 + luhn_key(siren + nic4)


# ---------------------------------------------------------------- dates (Europe/Paris, no tz database)
def _last_sunday(year: int, month: int) -> int:
    last = calendar.monthrange(year, month)[1]
    return last - (calendar.weekday(year, month, last) + 1) % 7


def dt(local: str) -> str:
    """'2026-05-12 10:30' (Paris wall clock) -> '2026-05-12T10:30:00+02:00'."""
    d = _dt.datetime.strptime(local, "%Y-%m-%d %H:%M")
    start = _dt.datetime(d.year, 3, _last_sunday(d.year, 3), 2, 0)
    end = _dt.datetime(d.year, 10, _last_sunday(d.year, 10), 3, 0)
    offset = "+02:00" if start <= d < end else "+01:00"
    return d.strftime("%Y-%m-%dT%H:%M:00") + offset


def seed_uuid(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'https://dmp-fhir-server.example/seed/' + name)}"


def coding(system: str, code: str, display: str | None = None) -> dict:
    c = {"system": system, "code": code}
    if display:
        c["display"] = display
    return c


def cc(system: str, code: str, display: str | None = None, text: str | None = None) -> dict:
    out = {"coding": [coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def ref(target: str, display: str | None = None) -> dict:
    r = {"reference": target}
    if display:
        r["display"] = display
    return r


def address(line: str, postal: str, city: str, use: str = "work") -> dict:
    return {"use": use, "type": "both", "line": [line], "city": city, "postalCode": postal, "country": "FR"}


# ---------------------------------------------------------------- organisations
# id, name, kind (HL7 organization-type), sector (TRE_R02), FINESS payload (8 digits) or None,
# FINESS type, address, phone, partOf
ORGANIZATIONS = [
    dict(id="org-cnam-mon-espace-sante", name="Caisse nationale de l'Assurance Maladie – Mon espace santé",
         alias="CNAM (hébergeur Mon espace santé)", kind="govt", sector="SA24", finess=None,
         siret=("18003504", "0001"), addr=("50 avenue du Professeur André Lemierre", "75020", "Paris"),
         phone="01 99 00 10 00"),
    dict(id="org-cpam-rhone", name="CPAM du Rhône", alias="Caisse primaire d'assurance maladie du Rhône",
         kind="ins", sector="SA24", finess=None, siret=("77995022", "0004"),
         addr=("276 cours Émile Zola", "69100", "Villeurbanne"), phone="04 65 71 00 36"),
    dict(id="org-chu-lyon-confluence", name="CHU Lyon-Confluence", alias="Centre hospitalier universitaire",
         kind="prov", sector="SA01", finess="69078180", finess_type="FINEJ",
         addr=("15 quai Perrache", "69002", "Lyon"), phone="04 65 71 10 00"),
    dict(id="org-samu-69", name="SAMU 69 – Centre 15", alias="Centre de réception et de régulation des appels",
         kind="prov", sector="SA01", finess="69078211", finess_type="FINEG",
         addr=("15 quai Perrache", "69002", "Lyon"), phone="04 65 71 10 15", part_of="org-chu-lyon-confluence"),
    dict(id="org-ehpad-les-tilleuls", name="EHPAD Les Tilleuls",
         alias="Établissement d'hébergement pour personnes âgées dépendantes", kind="prov", sector="SA17",
         finess="69079346", finess_type="FINEG", addr=("8 rue des Tilleuls", "69100", "Villeurbanne"),
         phone="04 65 71 20 00"),
    dict(id="org-labo-biorhone", name="Laboratoire BioRhône – site Part-Dieu",
         alias="Laboratoire de biologie médicale", kind="prov", sector="SA25", finess="69079512",
         finess_type="FINEG", addr=("40 rue Servient", "69003", "Lyon"), phone="04 65 71 30 00"),
    dict(id="org-msp-croix-rousse", name="Maison de santé pluriprofessionnelle de la Croix-Rousse",
         alias="MSP Croix-Rousse", kind="prov", sector="SA52", finess="69079627", finess_type="FINEG",
         addr=("21 boulevard de la Croix-Rousse", "69004", "Lyon"), phone="04 65 71 40 00"),
    dict(id="org-msp-guillotiere", name="Maison de santé pluriprofessionnelle de la Guillotière",
         alias="MSP Guillotière", kind="prov", sector="SA52", finess="69079635", finess_type="FINEG",
         addr=("12 rue de Marseille", "69007", "Lyon"), phone="04 65 71 41 00"),
    dict(id="org-msp-monplaisir", name="Maison de santé pluriprofessionnelle Monplaisir",
         alias="MSP Monplaisir (pédiatrie)", kind="prov", sector="SA52", finess="69079643", finess_type="FINEG",
         addr=("95 avenue des Frères Lumière", "69008", "Lyon"), phone="04 65 71 42 00"),
    dict(id="org-clinique-parc-blandan", name="Clinique du Parc Blandan", alias="Clinique privée (gynécologie-obstétrique)",
         kind="prov", sector="SA04", finess="69079759", finess_type="FINEG",
         addr=("37 rue du Repos", "69007", "Lyon"), phone="04 65 71 50 00"),
    dict(id="org-css-lyon-7", name="Centre de santé sexuelle Lyon 7e",
         alias="Centre de planification et d'éducation familiale", kind="prov", sector="SA15",
         finess="69079866", finess_type="FINEG", addr=("3 rue Jaboulay", "69007", "Lyon"), phone="04 65 71 60 00"),
    dict(id="org-imagerie-bellecour", name="Centre d'imagerie médicale Bellecour", alias="Radiologie et échographie",
         kind="prov", sector="SA08", finess="69079973", finess_type="FINEG",
         addr=("5 place Antonin Poncet", "69002", "Lyon"), phone="04 65 71 70 00"),
    dict(id="org-pharmacie-des-pentes", name="Pharmacie des Pentes", alias="Pharmacie d'officine",
         kind="prov", sector="SA33", finess="69080088", finess_type="FINEG",
         addr=("44 montée de la Grande Côte", "69001", "Lyon"), phone="04 65 71 80 00"),
]
ORG_KIND_DISPLAY = {"prov": "Healthcare Provider", "ins": "Insurance Company", "govt": "Government"}
ORGS = {o["id"]: o for o in ORGANIZATIONS}


def organization(o: dict) -> dict:
    identifiers = []
    if o["finess"]:
        number = finess(o["finess"])
        identifiers.append({"use": "official", "type": cc(CS_FR_V2_0203, o["finess_type"]),
                            "system": SYS_FINESS, "value": number})
        identifiers.append({"use": "official", "type": cc(CS_FR_V2_0203, "IDNST"),
                            "system": SYS_IDNST, "value": "1" + number})
    else:  # insurers have no FINESS: idNatSt = 3 + SIRET
        identifiers.append({"use": "official", "type": cc(CS_FR_V2_0203, "IDNST"),
                            "system": SYS_IDNST, "value": "3" + siret(*o["siret"])})
    res = {
        "resourceType": "Organization", "id": o["id"], "identifier": identifiers, "active": True,
        "type": [cc(CS_ORG_TYPE, o["kind"], ORG_KIND_DISPLAY[o["kind"]]),
                 cc(CS_R02_SECTOR, o["sector"], SECTOR_DISPLAY[o["sector"]])],
        "name": o["name"], "alias": [o["alias"]],
        "telecom": [{"system": "phone", "value": o["phone"], "use": "work"}],
        "address": [address(*o["addr"])],
    }
    if o.get("part_of"):
        res["partOf"] = ref("Organization/" + o["part_of"], ORGS[o["part_of"]]["name"])
    return res


# ---------------------------------------------------------------- professionals
PROFESSIONS = {"10": "Médecin", "21": "Pharmacien", "50": "Sage-Femme", "60": "Infirmier",
               "70": "Masseur-Kinésithérapeute", "99": "Acteur caractérisé par son rôle"}
SPECIALTIES = {
    "SM54": "Médecine générale (SM)", "SM04": "Cardiologie et Maladies vasculaires (SM)",
    "SM40": "Pédiatrie (SM)", "SM20": "Gynécologie-obstétrique (SM)", "SM44": "Radio-diagnostic (SM)",
    "SM03": "Biologie médicale (SM)", "SM59": "Médecine d'urgence (SM)", "SM18": "Gériatrie (SM)",
    "SM36": "Oncologie, option médicale (SM)",
}
# id, family, given, gender, RPPS serial (8 digits after "10"), profession, specialty, organization, function
PRACTITIONERS = [
    dict(id="pra-antoine-lefebvre", family="Lefebvre", given="Antoine", gender="male", serial="00412738",
         prof="10", spec="SM54", org="org-msp-croix-rousse", function="Médecin généraliste"),
    dict(id="pra-helene-garnier", family="Garnier", given="Hélène", gender="female", serial="00538164",
         prof="10", spec="SM54", org="org-msp-croix-rousse", function="Médecin généraliste"),
    dict(id="pra-marc-rousseau", family="Rousseau", given="Marc", gender="male", serial="00627491",
         prof="10", spec="SM54", org="org-msp-guillotiere", function="Médecin généraliste"),
    dict(id="pra-yann-le-gall", family="Le Gall", given="Yann", gender="male", serial="00781925",
         prof="10", spec="SM54", org="org-msp-guillotiere", function="Médecin généraliste"),
    dict(id="pra-thomas-girard", family="Girard", given="Thomas", gender="male", serial="00294617",
         prof="10", spec="SM04", org="org-chu-lyon-confluence", function="Cardiologue"),
    dict(id="pra-isabelle-moreau", family="Moreau", given="Isabelle", gender="female", serial="00318452",
         prof="10", spec="SM04", org="org-chu-lyon-confluence", function="Cardiologue"),
    dict(id="pra-anne-collin", family="Collin", given="Anne", gender="female", serial="00459203",
         prof="10", spec="SM36", org="org-chu-lyon-confluence", function="Oncologue médicale"),
    dict(id="pra-emilie-roux", family="Roux", given="Émilie", gender="female", serial="00873340",
         prof="10", spec="SM59", org="org-chu-lyon-confluence", function="Médecin urgentiste"),
    dict(id="pra-francois-chevalier", family="Chevalier", given="François", gender="male", serial="00196586",
         prof="10", spec="SM59", org="org-samu-69", function="Médecin régulateur (Centre 15)"),
    dict(id="pra-camille-petit", family="Petit", given="Camille", gender="female", serial="00562079",
         prof="10", spec="SM40", org="org-msp-monplaisir", function="Pédiatre"),
    dict(id="pra-nathalie-fontaine", family="Fontaine", given="Nathalie", gender="female", serial="00345912",
         prof="10", spec="SM20", org="org-clinique-parc-blandan", function="Gynécologue-obstétricienne"),
    dict(id="pra-julie-mercier", family="Mercier", given="Julie", gender="female", serial="00908457",
         prof="50", spec=None, org="org-css-lyon-7", function="Sage-femme (centre de santé sexuelle)"),
    dict(id="pra-olivier-lambert", family="Lambert", given="Olivier", gender="male", serial="00671348",
         prof="10", spec="SM44", org="org-imagerie-bellecour", function="Radiologue"),
    dict(id="pra-sandrine-faure", family="Faure", given="Sandrine", gender="female", serial="00723685",
         prof="10", spec="SM03", org="org-labo-biorhone", function="Biologiste médicale"),
    dict(id="pra-vincent-blanc", family="Blanc", given="Vincent", gender="male", serial="00834291",
         prof="21", spec=None, org="org-pharmacie-des-pentes", function="Pharmacien titulaire"),
    dict(id="pra-bernard-masson", family="Masson", given="Bernard", gender="male", serial="00150734",
         prof="10", spec="SM18", org="org-ehpad-les-tilleuls", function="Médecin coordonnateur d'EHPAD"),
    dict(id="pra-laure-gauthier", family="Gauthier", given="Laure", gender="female", serial="00986123",
         prof="60", spec=None, org="org-ehpad-les-tilleuls", function="Infirmière"),
    dict(id="pra-karim-benali", family="Benali", given="Karim", gender="male", serial="00947856",
         prof="60", spec=None, org="org-ehpad-les-tilleuls", function="Infirmier"),
    # the access matrix by profession (issue 12): a physiotherapist and an Ehpad care assistant (médico-social)
    dict(id="pra-lucas-perret", family="Perret", given="Lucas", gender="male", serial="00583716",
         prof="70", spec=None, org="org-msp-croix-rousse", function="Masseur-kinésithérapeute"),
    dict(id="pra-martine-roche", family="Roche", given="Martine", gender="female", serial="00639482",
         prof="99", spec=None, org="org-ehpad-les-tilleuls", function="Aide-soignante"),
]
PRAS = {p["id"]: p for p in PRACTITIONERS}


def _slug(text: str) -> str:
    table = str.maketrans("éèêëàâîïôöûüçÉ ", "eeeeaaiioouucE.")
    return text.translate(table).lower().replace("'", "")


def pra_name(pid: str) -> str:
    p = PRAS[pid]
    title = "Dr " if p["prof"] == "10" else ""
    return f"{title}{p['given']} {p['family'].upper()}"


def practitioner(p: dict) -> dict:
    number = rpps(p["serial"])
    is_doctor = p["prof"] == "10"
    name = {"use": "official", "family": p["family"], "given": [p["given"]],
            "prefix": ["MME" if p["gender"] == "female" else "M"]}
    if is_doctor:
        name["suffix"] = ["DR"]
    qualification = [{"code": cc(CS_G15_PROFESSION, p["prof"], PROFESSIONS[p["prof"]])}]
    if p["spec"]:
        qualification.append({"code": cc(CS_R38_SPECIALTY, p["spec"], SPECIALTIES[p["spec"]])})
    return {
        "resourceType": "Practitioner", "id": p["id"],
        "identifier": [
            {"use": "official", "type": cc(CS_FR_V2_0203, "IDNPS"), "system": SYS_IDNPS, "value": "8" + number},
            {"use": "official", "type": cc(CS_FR_V2_0203, "RPPS"), "system": SYS_RPPS, "value": number},
        ],
        "active": True, "name": [name],
        "telecom": [{"system": "email", "use": "work",
                     "value": f"{_slug(p['given'])}.{_slug(p['family'])}@mssante.example"}],
        "gender": p["gender"], "qualification": qualification,
    }


def practitioner_role(p: dict) -> dict:
    org = ORGS[p["org"]]
    res = {
        "resourceType": "PractitionerRole", "id": "prr-" + p["id"][4:], "active": True,
        "period": {"start": "2020-01-01"},
        "practitioner": ref("Practitioner/" + p["id"], pra_name(p["id"])),
        "organization": ref("Organization/" + p["org"], org["name"]),
        "code": [{"coding": [coding(CS_G15_PROFESSION, p["prof"], PROFESSIONS[p["prof"]])], "text": p["function"]}],
        "telecom": [{"system": "phone", "value": org["phone"], "use": "work"}],
    }
    if p["spec"]:
        res["specialty"] = [cc(CS_R38_SPECIALTY, p["spec"], SPECIALTIES[p["spec"]])]
    return res


# ---------------------------------------------------------------- patients
# sex 1/2, official (birth) family name, usual family name, given names, birth date, birth place
# (city, INSEE department, commune), NIR order number, home address, MT (generalPractitioner), DMP status
PATIENTS = [
    dict(id="pat-claire-martin", sex=2, family="Durand", usual="Martin", given=["Claire", "Marie"],
         birth="1984-06-17", place=("Lyon 4e Arrondissement", "69", "384"), order=412,
         addr=("12 rue Dumenge", "69004", "Lyon"), mobile="06 39 98 01 12", gp=["pra-antoine-lefebvre"]),
    dict(id="pat-sophie-bernard", sex=2, family="Bernard", given=["Sophie", "Andrée"], birth="1962-11-03",
         place=("Grenoble", "38", "185"), order=87, addr=("5 rue Paul Bert", "69003", "Lyon"),
         mobile="06 39 98 01 23", gp=["pra-helene-garnier"]),
    dict(id="pat-michel-fournier", sex=1, family="Fournier", given=["Michel", "Henri"], birth="1948-02-27",
         place=("Saint-Étienne", "42", "218"), order=233, addr=("18 rue Chazière", "69004", "Lyon"),
         mobile="06 39 98 01 34", gp=["pra-antoine-lefebvre"]),
    dict(id="pat-jacqueline-perrin", sex=2, family="Perrin", given=["Jacqueline"], birth="1955-07-09",
         place=("Villeurbanne", "69", "266"), order=145, addr=("30 rue Francis de Pressensé", "69100", "Villeurbanne"),
         mobile="06 39 98 01 45", gp=["pra-helene-garnier"]),
    dict(id="pat-robert-vidal", sex=1, family="Vidal", given=["Robert", "Louis"], birth="1936-12-01",
         place=("Mâcon", "71", "270"), order=58, addr=("EHPAD Les Tilleuls, 8 rue des Tilleuls", "69100", "Villeurbanne"),
         mobile=None, gp=["pra-antoine-lefebvre"]),
    dict(id="pat-simone-garcia", sex=2, family="Garcia", given=["Simone"], birth="1931-04-18",
         place=("Barcelone", "99", "134", "ES"), order=12, addr=("EHPAD Les Tilleuls, 8 rue des Tilleuls", "69100", "Villeurbanne"),
         mobile=None, gp=["pra-marc-rousseau"]),
    dict(id="pat-philippe-morel", sex=1, family="Morel", given=["Philippe", "Jean"], birth="1971-10-22",
         place=("Lyon 3e Arrondissement", "69", "383"), order=301, addr=("7 rue Pasteur", "69007", "Lyon"),
         mobile="06 39 98 01 56", gp=["pra-marc-rousseau"]),
    dict(id="pat-amelie-dubois", sex=2, family="Dubois", given=["Amélie", "Sarah"], birth="1990-08-30",
         place=("Paris 14e Arrondissement", "75", "114"), order=520, addr=("64 rue Hénon", "69004", "Lyon"),
         mobile="06 39 98 01 67", gp=["pra-helene-garnier"]),
    dict(id="pat-jean-pierre-muller", sex=1, family="Muller", given=["Jean-Pierre"], birth="1958-01-15",
         place=("Strasbourg", "67", "482"), order=377, addr=("3 place de la Croix-Rousse", "69004", "Lyon"),
         mobile="06 39 98 01 78", gp=["pra-antoine-lefebvre", "pra-helene-garnier"]),
    dict(id="pat-monique-renard", sex=2, family="Renard", given=["Monique", "Paule"], birth="1950-12-08",
         place=("Bourg-en-Bresse", "01", "053"), order=96, addr=("11 rue d'Austerlitz", "69004", "Lyon"),
         mobile="06 39 98 01 89", gp=["pra-helene-garnier"],
         dmp=dict(status="FERME", date="2026-06-30 14:12",
                  reason="Fermeture à la demande de la titulaire : ne souhaite plus utiliser Mon espace santé.")),
    dict(id="pat-lucie-barbier", sex=2, family="Barbier", given=["Lucie"], birth="1995-03-21",
         place=("Annecy", "74", "010"), order=188, addr=("27 rue Saint-Jean", "69005", "Lyon"),
         mobile="06 39 98 02 01", gp=[]),
    dict(id="pat-david-cohen", sex=1, family="Cohen", given=["David", "Samuel"], birth="1979-05-04",
         place=("Marseille 8e Arrondissement", "13", "208"), order=264, addr=("9 rue de Créqui", "69006", "Lyon"),
         mobile="06 39 98 02 12", gp=["pra-marc-rousseau"]),
    dict(id="pat-nicolas-fabre", sex=1, family="Fabre", given=["Nicolas"], birth="1987-09-11",
         place=("Valence", "26", "362"), order=43, addr=("52 avenue Jean Jaurès", "69007", "Lyon"),
         mobile="06 39 98 02 23", gp=["pra-marc-rousseau"]),
    dict(id="pat-paul-henry", sex=1, family="Henry", given=["Paul", "Émile"], birth="1975-01-30",
         place=("Vienne", "38", "544"), order=119, addr=("16 rue de la Thibaudière", "69007", "Lyon"),
         mobile="06 39 98 02 34", gp=["pra-marc-rousseau"]),
    dict(id="pat-gerard-bonnet", sex=1, family="Bonnet", given=["Gérard", "Marcel"], birth="1944-06-06",
         place=("Lyon 7e Arrondissement", "69", "387"), order=207, addr=("4 rue des Fantasques", "69001", "Lyon"),
         mobile="06 39 98 02 45", gp=["pra-antoine-lefebvre"]),
    dict(id="pat-hugo-petitjean", sex=1, family="Petitjean", given=["Hugo", "Mathis"], birth="2008-10-05",
         place=("Villeurbanne", "69", "266"), order=618, addr=("2 rue Anatole France", "69100", "Villeurbanne"),
         mobile="06 39 98 02 56", gp=["pra-antoine-lefebvre"]),
    # minors
    dict(id="pat-leo-martin", sex=1, family="Martin", given=["Léo", "Julien"], birth="2016-03-14",
         place=("Lyon 4e Arrondissement", "69", "384"), order=455, addr=("12 rue Dumenge", "69004", "Lyon"),
         mobile=None, gp=["pra-camille-petit"]),
    dict(id="pat-ines-haddad", sex=2, family="Haddad", given=["Inès", "Yasmine"], birth="2009-09-02",
         place=("Vénissieux", "69", "259"), order=302, addr=("21 avenue Jean Cagne", "69200", "Vénissieux"),
         mobile="06 39 98 02 67", gp=["pra-antoine-lefebvre"]),
    dict(id="pat-emma-caron", sex=2, family="Caron", given=["Emma", "Louise"], birth="2013-05-20",
         place=("Villeurbanne", "69", "266"), order=537, addr=("14 rue Léon Blum", "69100", "Villeurbanne"),
         mobile=None, gp=["pra-camille-petit"]),
    dict(id="pat-jade-moulin", sex=2, family="Moulin", given=["Jade"], birth="2026-02-10",
         place=("Lyon 8e Arrondissement", "69", "388"), order=64, addr=("33 rue Bataille", "69008", "Lyon"),
         mobile=None, gp=["pra-camille-petit"]),
]
PATS = {p["id"]: p for p in PATIENTS}


def patient_ins(p: dict) -> str:
    return nir(p["sex"], p["birth"], p["place"][1], p["place"][2], p["order"])


def ins_identifier(value: str) -> dict:
    return {"use": "official", "type": cc(CS_FR_V2_0203, "INS-NIR-TEST"),
            "system": OID_INS_NIR_TEST, "value": value}


def pat_name(pid: str) -> str:
    p = PATS[pid]
    return f"{p['given'][0]} {(p.get('usual') or p['family']).upper()}"


def dmp_status_extension(status: dict | None) -> dict:
    if not status:
        return {"url": EXT_DMP_STATUS, "extension": [{"url": "status", "valueCode": "ACTIF"}]}
    return {"url": EXT_DMP_STATUS, "extension": [
        {"url": "status", "valueCode": status["status"]},
        {"url": "closureDate", "valueDateTime": dt(status["date"])},
        {"url": "closureReason", "valueString": status["reason"]},
    ]}


def patient(p: dict) -> dict:
    city, dept = p["place"][:2]
    country = p["place"][3] if dept == "99" else "FR"  # born abroad: department 99 + INSEE country code
    names = [{"use": "official", "family": p["family"], "given": p["given"]}]
    if p.get("usual"):
        names.append({"use": "usual", "family": p["usual"], "given": p["given"][:1]})
    telecom = []
    if p["mobile"]:
        telecom.append({"system": "phone", "value": p["mobile"], "use": "mobile"})
        telecom.append({"system": "email", "use": "home",
                        "value": f"{_slug(p['given'][0])}.{_slug(p.get('usual') or p['family'])}@example.com"})
    res = {
        "resourceType": "Patient", "id": p["id"], "meta": {"profile": [PROFILE_FR_PATIENT]},
        "extension": [
            {"url": EXT_BIRTH_PLACE, "valueAddress": {"city": city, "country": country}},
            dmp_status_extension(p.get("dmp")),
        ],
        "identifier": [ins_identifier(patient_ins(p))],
        "active": True, "name": names,
    }
    if telecom:
        res["telecom"] = telecom
    res["gender"] = "male" if p["sex"] == 1 else "female"
    res["birthDate"] = p["birth"]
    res["address"] = [address(*p["addr"], use="home")]
    if p["gp"]:
        res["generalPractitioner"] = [ref("Practitioner/" + g, pra_name(g)) for g in p["gp"]]
    return res


# ---------------------------------------------------------------- relationships
RELATION_DISPLAY = {"MTH": "mother", "FTH": "father", "GUARD": "guardian", "GRMTH": "grandmother",
                    "DAU": "natural daughter"}
# id, patient, relationship codes, family, given, gender, active, period, phone, INS of the person (if a patient)
RELATED_PERSONS = [
    dict(id="rp-leo-martin-mere", patient="pat-leo-martin", rel=["MTH"], family="Martin", given="Claire",
         gender="female", period={"start": "2016-03-14"}, phone="06 39 98 01 12",
         addr=("12 rue Dumenge", "69004", "Lyon"), same_as="pat-claire-martin"),
    dict(id="rp-leo-martin-pere", patient="pat-leo-martin", rel=["FTH"], family="Martin", given="Julien",
         gender="male", period={"start": "2016-03-14"}, phone="06 39 98 03 01",
         addr=("12 rue Dumenge", "69004", "Lyon")),
    dict(id="rp-ines-haddad-mere", patient="pat-ines-haddad", rel=["MTH"], family="Haddad", given="Samira",
         gender="female", period={"start": "2009-09-02"}, phone="06 39 98 03 12",
         addr=("21 avenue Jean Cagne", "69200", "Vénissieux")),
    dict(id="rp-ines-haddad-pere", patient="pat-ines-haddad", rel=["FTH"], family="Haddad", given="Nabil",
         gender="male", period={"start": "2009-09-02"}, phone="06 39 98 03 23",
         addr=("21 avenue Jean Cagne", "69200", "Vénissieux")),
    dict(id="rp-emma-caron-tutrice", patient="pat-emma-caron", rel=["GUARD", "GRMTH"], family="Caron",
         given="Odile", gender="female", period={"start": "2021-09-15"}, phone="06 39 98 03 34",
         addr=("14 rue Léon Blum", "69100", "Villeurbanne")),
    dict(id="rp-jade-moulin-mere", patient="pat-jade-moulin", rel=["MTH"], family="Moulin", given="Laura",
         gender="female", period={"start": "2026-02-10"}, phone="06 39 98 03 45",
         addr=("33 rue Bataille", "69008", "Lyon")),
    dict(id="rp-jade-moulin-pere", patient="pat-jade-moulin", rel=["FTH"], family="Moulin", given="Mehdi",
         gender="male", period={"start": "2026-02-10"}, phone="06 39 98 03 56",
         addr=("33 rue Bataille", "69008", "Lyon")),
    # Hugo turned 18 on 2026-10-05: his mother's legal representation has ended
    dict(id="rp-hugo-petitjean-mere", patient="pat-hugo-petitjean", rel=["MTH"], family="Petitjean",
         given="Valérie", gender="female", active=False, period={"start": "2008-10-05", "end": "2026-10-05"},
         phone="06 39 98 03 67", addr=("2 rue Anatole France", "69100", "Villeurbanne")),
    # an adult's daughter (personne de confiance): not a legal representative, no DMP rights
    dict(id="rp-robert-vidal-fille", patient="pat-robert-vidal", rel=["DAU"], family="Vidal", given="Martine",
         gender="female", period={"start": "2024-03-01"}, phone="06 39 98 03 78",
         addr=("6 rue Jean Moulin", "69300", "Caluire-et-Cuire")),
]


def related_person(r: dict) -> dict:
    res = {"resourceType": "RelatedPerson", "id": r["id"]}
    if r.get("same_as"):
        res["identifier"] = [ins_identifier(patient_ins(PATS[r["same_as"]]))]
    res.update({
        "active": r.get("active", True),
        "patient": ref("Patient/" + r["patient"], pat_name(r["patient"])),
        "relationship": [cc(CS_ROLE_CODE, code, RELATION_DISPLAY[code]) for code in r["rel"]],
        "name": [{"use": "usual", "family": r["family"], "given": [r["given"]]}],
        "telecom": [{"system": "phone", "value": r["phone"], "use": "mobile"}],
        "gender": r["gender"],
        "address": [address(*r["addr"], use="home")],
        "period": r["period"],
    })
    return res


CARE_TEAMS = [
    dict(id="ct-sophie-bernard-cardiologie-chu", patient="pat-sophie-bernard", status="active",
         name="Cardiologie CHU Lyon-Confluence – Mme Bernard", org="org-chu-lyon-confluence",
         period={"start": "2026-03-14"}, members=["pra-isabelle-moreau", "pra-thomas-girard"]),
    dict(id="ct-michel-fournier-cardiologie-chu", patient="pat-michel-fournier", status="active",
         name="Suivi insuffisance cardiaque – M. Fournier", org="org-chu-lyon-confluence",
         period={"start": "2025-12-29"}, members=["pra-isabelle-moreau"]),
    dict(id="ct-robert-vidal-ehpad", patient="pat-robert-vidal", status="active",
         name="Équipe de soins EHPAD Les Tilleuls – M. Vidal", org="org-ehpad-les-tilleuls",
         period={"start": "2024-03-01"},
         members=["pra-bernard-masson", "pra-laure-gauthier", "pra-karim-benali", "pra-martine-roche"],
         member_orgs=["org-ehpad-les-tilleuls"]),
    dict(id="ct-simone-garcia-ehpad", patient="pat-simone-garcia", status="active",
         name="Équipe de soins EHPAD Les Tilleuls – Mme Garcia", org="org-ehpad-les-tilleuls",
         period={"start": "2022-10-03"}, members=["pra-bernard-masson", "pra-laure-gauthier", "pra-karim-benali"]),
    dict(id="ct-philippe-morel-oncologie-chu", patient="pat-philippe-morel", status="active",
         name="Oncologie CHU Lyon-Confluence – M. Morel", org="org-chu-lyon-confluence",
         period={"start": "2026-11-04"}, members=["pra-anne-collin"]),
    dict(id="ct-amelie-dubois-suivi-grossesse", patient="pat-amelie-dubois", status="active",
         name="Suivi de grossesse – Mme Dubois", org="org-clinique-parc-blandan",
         period={"start": "2026-07-20", "end": "2027-04-30"}, members=["pra-nathalie-fontaine"]),
    # finished: membership of an inactive care team gives no right
    dict(id="ct-jean-pierre-muller-hospitalisation-2025", patient="pat-jean-pierre-muller", status="inactive",
         name="Hospitalisation cardiologie février 2025 – M. Muller", org="org-chu-lyon-confluence",
         period={"start": "2025-02-03", "end": "2025-02-14"}, members=["pra-isabelle-moreau"]),
]


def care_team(c: dict) -> dict:
    participants = [{
        "role": [cc(CS_R85_ROLE, "353", "Membre de l'équipe de soins", PRAS[m]["function"])],
        "member": ref("Practitioner/" + m, pra_name(m)),
        "onBehalfOf": ref("Organization/" + PRAS[m]["org"]),
    } for m in c["members"]]
    participants += [{
        "role": [cc(CS_R85_ROLE, "353", "Membre de l'équipe de soins", "Établissement")],
        "member": ref("Organization/" + o, ORGS[o]["name"]),
    } for o in c.get("member_orgs", [])]
    return {
        "resourceType": "CareTeam", "id": c["id"], "status": c["status"],
        "category": [cc(CS_LOINC, "LA28865-6", "Longitudinal care-coordination focused care team")],
        "name": c["name"], "subject": ref("Patient/" + c["patient"], pat_name(c["patient"])),
        "period": c["period"], "participant": participants,
        "managingOrganization": [ref("Organization/" + c["org"], ORGS[c["org"]]["name"])],
    }


# kind: block (deny an actor), emergency (deny an access mode), authorize (permit an actor for a period)
CONSENTS = [
    dict(id="cns-sophie-bernard-opposition-girard", patient="pat-sophie-bernard", kind="block",
         actor="Practitioner/pra-thomas-girard", date="2026-04-02 21:14"),
    # an establishment blocked although one of its doctors holds a personal authorisation: the block wins
    dict(id="cns-nicolas-fabre-opposition-imagerie-bellecour", patient="pat-nicolas-fabre", kind="block",
         actor="Organization/org-imagerie-bellecour", date="2025-11-18 08:40"),
    dict(id="cns-nicolas-fabre-autorisation-lambert", patient="pat-nicolas-fabre", kind="authorize",
         actor="Practitioner/pra-olivier-lambert", period={"start": "2025-06-02"}, date="2025-06-02 09:05"),
    dict(id="cns-paul-henry-opposition-le-gall-levee", patient="pat-paul-henry", kind="block",
         actor="Practitioner/pra-yann-le-gall", date="2025-01-10 19:02", status="inactive"),
    dict(id="cns-michel-fournier-opposition-bris-de-glace", patient="pat-michel-fournier", kind="emergency",
         mode="bris_de_glace", display="Bris de glace", date="2025-09-21 10:05"),
    dict(id="cns-jacqueline-perrin-opposition-centre-15", patient="pat-jacqueline-perrin", kind="emergency",
         mode="centre_15", display="Centre 15", date="2026-02-08 16:47"),
    dict(id="cns-claire-martin-autorisation-lambert", patient="pat-claire-martin", kind="authorize",
         actor="Practitioner/pra-olivier-lambert", period={"start": "2025-02-10"}, date="2025-02-10 11:20"),
    dict(id="cns-david-cohen-autorisation-lambert-expiree", patient="pat-david-cohen", kind="authorize",
         actor="Practitioner/pra-olivier-lambert", period={"start": "2026-10-01", "end": "2026-10-31"},
         date="2026-10-01 08:55"),
    dict(id="cns-david-cohen-autorisation-moreau", patient="pat-david-cohen", kind="authorize",
         actor="Practitioner/pra-isabelle-moreau", period={"start": "2026-11-01", "end": "2027-05-01"},
         date="2026-11-01 09:12", recorded_by="pra-isabelle-moreau"),
    # the access matrix (issue 12): authorised, yet each sees only what the profession may read
    dict(id="cns-robert-vidal-autorisation-blanc", patient="pat-robert-vidal", kind="authorize",
         actor="Practitioner/pra-vincent-blanc", period={"start": "2026-11-01"}, date="2026-11-01 10:30"),
    dict(id="cns-robert-vidal-autorisation-perret", patient="pat-robert-vidal", kind="authorize",
         actor="Practitioner/pra-lucas-perret", period={"start": "2026-11-15", "end": "2027-02-15"},
         date="2026-11-15 15:10"),
    dict(id="cns-gerard-bonnet-autorisation-moreau", patient="pat-gerard-bonnet", kind="authorize",
         actor="Practitioner/pra-isabelle-moreau", period={"start": "2026-06-01"}, date="2026-06-01 14:30"),
]


def _actor_display(reference: str) -> str:
    kind, rid = reference.split("/")
    return pra_name(rid) if kind == "Practitioner" else ORGS[rid]["name"]


def consent(c: dict) -> dict:
    permit = c["kind"] == "authorize"
    provision: dict = {"type": "permit" if permit else "deny"}
    if c["kind"] in ("block", "authorize"):
        provision["actor"] = [{"role": cc(CS_PARTICIPATION_TYPE, "IRCP", "information recipient"),
                               "reference": ref(c["actor"], _actor_display(c["actor"]))}]
    if permit:
        provision["period"] = c["period"]
    if c["kind"] == "emergency":
        provision["purpose"] = [coding(CS_R248_ACCESS_MODE, c["mode"], c["display"])]
    return {
        "resourceType": "Consent", "id": c["id"], "status": c.get("status", "active"),
        "scope": cc(CS_CONSENT_SCOPE, "patient-privacy", "Privacy Consent"),
        "category": [cc(CS_LOINC, "59284-0", "Patient Consent")],
        "patient": ref("Patient/" + c["patient"], pat_name(c["patient"])),
        "dateTime": dt(c["date"]),
        "performer": [ref("Patient/" + c["patient"])],
        "policyRule": cc(CS_ACT_CODE, "OPTIN" if permit else "OPTOUT", "opt-in" if permit else "opt-out"),
        "provision": provision,
    }


def consent_provenance(c: dict) -> dict:
    return {
        "resourceType": "Provenance", "id": "prov-" + c["id"],
        "target": [ref("Consent/" + c["id"])], "recorded": dt(c["date"]),
        "activity": cc(CS_DATA_OPERATION, "CREATE", "create"),
        "agent": [{
            "type": cc(CS_PROVENANCE_AGENT, "enterer", "Enterer"),
            "who": ref("Practitioner/" + c["recorded_by"], pra_name(c["recorded_by"])),
            "onBehalfOf": ref("Patient/" + c["patient"]),
        }],
    }


# ---------------------------------------------------------------- documents and their content
def _pdf(lines: list[str]) -> bytes:
    """A one-page PDF (Helvetica, WinAnsi) showing the lines; byte-identical on every run."""
    def esc(s: str) -> str:
        out = []
        for b in s.encode("cp1252"):
            ch = chr(b)
            out.append("\\" + ch if ch in "\\()" else ch if 32 <= b < 127 else f"\\{b:03o}")
        return "".join(out)
    text = "BT /F1 11 Tf 56 790 Td 15 TL " + " ".join(f"({esc(s)}) Tj T*" for s in lines) + " ET"
    stream = text.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _png(seed: str, size: int = 16) -> bytes:
    """A small grey-level PNG derived from a string (a stand-in for a scanned image)."""
    digest = hashlib.sha256(seed.encode()).digest()
    rows = b"".join(b"\x00" + bytes(digest[(x + y) % 32] for x in range(size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


FOOTER = "Document fictif – jeu de données de test dmp-fhir-server"


def render(mime: str, title: str, lines: list[str], seed: str) -> bytes:
    if mime == "application/pdf":
        return _pdf([title, ""] + lines + ["", FOOTER])
    if mime == "image/png":
        return _png(seed)
    return ("\n".join([title, "=" * len(title), ""] + lines + ["", FOOTER]) + "\n").encode("utf-8")


# one row per DocumentReference: id (doc-...), patient, class, type, author (Practitioner id, "patient" or
# an Organization id), date, title, mime, labels (TRE_A07 codes), confidentiality, status, body lines
DOCUMENTS = [
    # --- Claire Martin: masking by the holder, authorised radiologist, archived document
    dict(id="doc-claire-martin-cr-consultation-gynecologie-2026-05", patient="pat-claire-martin", cls="10",
         type="11488-4", author="pra-nathalie-fontaine", date="2026-05-12 10:30",
         title="Consultation de gynécologie du 12/05/2026", mime="application/pdf", labels=["MASQUE_PS"], conf="R",
         body=["Motif : suivi gynécologique annuel.", "Frottis cervico-utérin réalisé.",
               "Examen clinique sans particularité.", "Prochain contrôle dans un an."]),
    dict(id="doc-claire-martin-cr-echographie-abdominale-2025-02", patient="pat-claire-martin", cls="31",
         type="18748-4", author="pra-olivier-lambert", date="2025-02-14 09:15",
         title="Échographie abdominale du 14/02/2025", mime="application/pdf", archived=True,
         body=["Indication : douleurs de l'hypochondre droit.", "Foie de taille et d'échostructure normales.",
               "Vésicule alithiasique.", "Conclusion : examen normal."]),
    dict(id="doc-claire-martin-cr-consultation-2026-09", patient="pat-claire-martin", cls="10", type="11488-4",
         author="pra-antoine-lefebvre", date="2026-09-03 17:45", title="Consultation de médecine générale du 03/09/2026",
         mime="application/pdf",
         body=["Motif : rhinopharyngite.", "Apyrétique, examen ORL : rhinite simple.",
               "Traitement symptomatique. Pas d'antibiotique."]),
    dict(id="doc-claire-martin-remboursements-2026", patient="pat-claire-martin", cls="60", type="REMB",
         author="org-cpam-rhone", date="2026-10-01 03:00", title="Historique des remboursements (2024-2026)",
         mime="text/plain",
         body=["2026-09-03  Consultation médecine générale  30,00 EUR  remboursé 21,00 EUR",
               "2026-05-12  Consultation gynécologie       50,00 EUR  remboursé 30,00 EUR",
               "2025-02-14  Échographie abdominale         56,70 EUR  remboursé 39,69 EUR"]),
    # --- Sophie Bernard: blocked cardiologist (member of her care team, author of one document)
    dict(id="doc-sophie-bernard-cr-hospitalisation-cardiologie-2026-03", patient="pat-sophie-bernard", cls="10",
         type="34112-3", author="pra-isabelle-moreau", date="2026-03-20 16:00",
         title="Compte rendu d'hospitalisation – cardiologie (14/03 au 20/03/2026)", mime="application/pdf",
         body=["Motif : fibrillation atriale paroxystique.", "Cardioversion médicamenteuse efficace.",
               "Anticoagulation par apixaban instaurée.", "Consultation de contrôle à 3 mois."]),
    dict(id="doc-sophie-bernard-lettre-liaison-sortie-2026-03", patient="pat-sophie-bernard", cls="10",
         type="11490-0", author="pra-thomas-girard", date="2026-03-20 11:30",
         title="Lettre de liaison à la sortie du 20/03/2026", mime="application/pdf",
         body=["Sortie au domicile.", "Traitement : apixaban 5 mg x2/j, bisoprolol 2,5 mg/j.",
               "Surveillance : ECG chez le médecin traitant à 1 mois."]),
    dict(id="doc-sophie-bernard-ordonnance-sortie-2026-03", patient="pat-sophie-bernard", cls="42", type="57833-6",
         author="pra-isabelle-moreau", date="2026-03-20 11:45", title="Ordonnance de sortie du 20/03/2026",
         mime="application/pdf",
         body=["Apixaban 5 mg : 1 comprimé matin et soir, 3 mois.", "Bisoprolol 2,5 mg : 1 comprimé le matin, 3 mois."]),
    # --- Michel Fournier: opposed break-glass
    dict(id="doc-michel-fournier-cr-urgences-2025-12", patient="pat-michel-fournier", cls="10", type="15507-7",
         author="pra-emilie-roux", date="2025-12-28 23:40", title="Passage aux urgences du 28/12/2025",
         mime="application/pdf",
         body=["Motif : dyspnée d'effort aggravée.", "Décompensation cardiaque gauche modérée.",
               "Furosémide IV, amélioration rapide.", "Retour à domicile, suivi cardiologique."]),
    dict(id="doc-michel-fournier-synthese-2026-01", patient="pat-michel-fournier", cls="11", type="60591-5",
         author="pra-antoine-lefebvre", date="2026-01-15 18:10", title="Volet de synthèse médicale",
         mime="application/pdf",
         body=["Antécédents : insuffisance cardiaque (FEVG 40 %), HTA, BPCO.", "Allergie : aucune connue.",
               "Traitement : furosémide 40 mg, ramipril 5 mg, bisoprolol 5 mg."]),
    # --- Jacqueline Perrin: opposed access by the centre 15
    dict(id="doc-jacqueline-perrin-cr-consultation-2026-07", patient="pat-jacqueline-perrin", cls="10",
         type="11488-4", author="pra-helene-garnier", date="2026-07-08 09:20",
         title="Consultation de médecine générale du 08/07/2026", mime="application/pdf",
         body=["Renouvellement du traitement de l'hypothyroïdie.", "TSH à contrôler dans 6 semaines."]),
    # --- Robert Vidal: Ehpad resident, care team with nurses
    dict(id="doc-robert-vidal-plan-soins-2026-01", patient="pat-robert-vidal", cls="44", type="18776-5",
         author="pra-bernard-masson", date="2026-01-12 14:00", title="Plan personnalisé de soins 2026",
         mime="application/pdf",
         body=["Objectifs : prévention des chutes, équilibre glycémique, nutrition.",
               "Kinésithérapie 2 fois par semaine.", "Pesée mensuelle, glycémie capillaire quotidienne."]),
    dict(id="doc-robert-vidal-ordonnance-2026-11", patient="pat-robert-vidal", cls="42", type="57833-6",
         author="pra-antoine-lefebvre", date="2026-11-08 11:00", title="Ordonnance du 08/11/2026",
         mime="application/pdf",
         body=["Metformine 500 mg : 1 comprimé matin et soir.", "Paracétamol 1 g : si douleur, 3 par jour maximum.",
               "Renouvelable 3 fois."]),
    dict(id="doc-robert-vidal-dispensation-2026-11", patient="pat-robert-vidal", cls="43", type="60593-1",
         author="pra-vincent-blanc", date="2026-11-10 16:25", title="Dispensation du 10/11/2026",
         mime="text/plain",
         body=["METFORMINE 500MG CPR (boîte de 60) x1", "PARACETAMOL 1G CPR (boîte de 8) x2",
               "Délivré à l'EHPAD Les Tilleuls (préparation des doses à administrer)."]),
    dict(id="doc-robert-vidal-administration-2026-11", patient="pat-robert-vidal", cls="45", type="80565-5",
         author="pra-laure-gauthier", date="2026-11-15 20:30", title="Administration des traitements – semaine 46",
         mime="text/plain",
         body=["09/11 au 15/11 : metformine administrée matin et soir (14/14).",
               "Paracétamol 1 g administré le 12/11 à 14 h (douleur genou droit, EVA 4)."]),
    dict(id="doc-robert-vidal-bilan-soins-infirmiers-2026-10", patient="pat-robert-vidal", cls="10",
         type="96163-1", author="pra-karim-benali", date="2026-10-20 15:10", title="Bilan de soins infirmiers",
         mime="application/pdf",
         body=["Autonomie : GIR 3.", "Risque d'escarre faible (Braden 17).", "Poids stable à 71 kg."]),
    dict(id="doc-robert-vidal-admission-ehpad-2024-03", patient="pat-robert-vidal", cls="95", type="51851-4",
         author="pra-bernard-masson", date="2024-03-01 10:00", title="Dossier administratif d'admission en EHPAD",
         mime="application/pdf",
         body=["Entrée le 01/03/2024, chambre 112.", "Personne de confiance : Mme Martine Vidal (fille)."]),
    # --- Simone Garcia: Ehpad resident
    dict(id="doc-simone-garcia-vaccination-grippe-2026-10", patient="pat-simone-garcia", cls="45", type="87273-9",
         author="pra-laure-gauthier", date="2026-10-14 10:40", title="Vaccination antigrippale 2026-2027",
         mime="text/plain", body=["Vaccin grippal quadrivalent, lot FLU2026-0417, deltoïde gauche.",
                                  "Pas de réaction immédiate."]),
    dict(id="doc-simone-garcia-cr-consultation-2026-06", patient="pat-simone-garcia", cls="10", type="11488-4",
         author="pra-marc-rousseau", date="2026-06-17 15:30", title="Visite en EHPAD du 17/06/2026",
         mime="application/pdf", body=["Troubles cognitifs stables (MMSE 19/30).", "Pas de modification du traitement."]),
    # --- Philippe Morel: document invisible to the patient pending the announcement consultation
    dict(id="doc-philippe-morel-cr-rcp-2026-11", patient="pat-philippe-morel", cls="10", type="34794-8",
         author="pra-anne-collin", date="2026-11-18 17:00",
         title="Réunion de concertation pluridisciplinaire du 18/11/2026", mime="application/pdf",
         labels=["INVISIBLE_PATIENT"], conf="R",
         body=["Dossier présenté en RCP d'oncologie thoracique.",
               "Proposition : bilan d'extension complémentaire puis chimiothérapie.",
               "Annonce au patient prévue en consultation le 26/11/2026."]),
    dict(id="doc-philippe-morel-cr-scanner-2026-10", patient="pat-philippe-morel", cls="31", type="18748-4",
         author="pra-olivier-lambert", date="2026-10-28 12:05", title="Scanner thoracique du 28/10/2026",
         mime="application/pdf", body=["Indication : toux persistante chez un fumeur.",
                                       "Conclusion : lésion du lobe supérieur droit, avis spécialisé recommandé."]),
    dict(id="doc-philippe-morel-cr-biologie-2026-10", patient="pat-philippe-morel", cls="10", type="11502-2",
         author="pra-sandrine-faure", date="2026-10-30 13:20", title="Compte rendu d'examens biologiques du 30/10/2026",
         mime="application/pdf", body=["Hémoglobine 13,9 g/dL ; leucocytes 7,8 G/L ; plaquettes 265 G/L.",
                                       "Créatinine 82 µmol/L ; CRP 6 mg/L."]),
    # --- Amélie Dubois: pregnancy follow-up, messages with her gynaecologist
    dict(id="doc-amelie-dubois-cr-echographie-t1-2026-08", patient="pat-amelie-dubois", cls="31", type="18748-4",
         author="pra-nathalie-fontaine", date="2026-08-21 10:00", title="Échographie du premier trimestre",
         mime="application/pdf", body=["Grossesse intra-utérine évolutive, 12 SA + 4 j.", "Clarté nucale 1,4 mm."]),
    dict(id="doc-amelie-dubois-cr-biologie-2026-09", patient="pat-amelie-dubois", cls="10", type="11502-2",
         author="pra-sandrine-faure", date="2026-09-15 12:40", title="Bilan biologique de grossesse",
         mime="application/pdf", body=["Groupe O Rhésus positif, RAI négative.", "Toxoplasmose : immunisée."]),
    dict(id="doc-amelie-dubois-cr-grossesse-2026-10", patient="pat-amelie-dubois", cls="10", type="89233-1",
         author="pra-nathalie-fontaine", date="2026-10-05 11:15", title="Consultation prénatale du 4e mois",
         mime="application/pdf", body=["Grossesse de déroulement normal.", "Échographie morphologique à programmer."]),
    dict(id="doc-amelie-dubois-carte-groupe-sanguin", patient="pat-amelie-dubois", cls="90", type="DOCPAT05",
         author="patient", date="2026-07-02 21:03", title="Carte de groupe sanguin (scan)", mime="image/png",
         body=[]),
    # --- Jean-Pierre Muller: two médecins traitants, replaced lab report, reimbursements
    dict(id="doc-jean-pierre-muller-protocole-ald-2025-11", patient="pat-jean-pierre-muller", cls="44",
         type="PROT_ALD", author="pra-antoine-lefebvre", date="2025-11-04 10:30",
         title="Protocole de soins ALD – diabète de type 2", mime="application/pdf",
         body=["ALD n° 8 : diabète de type 2.", "Suivi : HbA1c trimestrielle, fond d'œil annuel, podologue."]),
    dict(id="doc-jean-pierre-muller-cr-biologie-2026-10-v1", patient="pat-jean-pierre-muller", cls="10",
         type="11502-2", author="pra-sandrine-faure", date="2026-10-22 12:00",
         title="Compte rendu d'examens biologiques du 22/10/2026", mime="application/pdf", status="superseded",
         body=["HbA1c 9,1 %.", "Glycémie à jeun 1,62 g/L."]),
    dict(id="doc-jean-pierre-muller-cr-biologie-2026-10-v2", patient="pat-jean-pierre-muller", cls="10",
         type="11502-2", author="pra-sandrine-faure", date="2026-10-23 09:30",
         title="Compte rendu d'examens biologiques du 22/10/2026 (rectificatif)", mime="application/pdf",
         replaces="doc-jean-pierre-muller-cr-biologie-2026-10-v1",
         body=["Rectificatif : erreur de report de l'HbA1c.", "HbA1c 7,9 %.", "Glycémie à jeun 1,62 g/L."]),
    dict(id="doc-jean-pierre-muller-ordonnance-2026-10", patient="pat-jean-pierre-muller", cls="42",
         type="57833-6", author="pra-helene-garnier", date="2026-10-27 18:20", title="Ordonnance du 27/10/2026",
         mime="application/pdf", body=["Metformine 1000 mg : 1 comprimé matin et soir, 3 mois.",
                                       "Lecteur de glycémie, bandelettes et lancettes."]),
    dict(id="doc-jean-pierre-muller-cr-hospitalisation-2025-02", patient="pat-jean-pierre-muller", cls="10",
         type="34112-3", author="pra-isabelle-moreau", date="2025-02-14 15:00",
         title="Compte rendu d'hospitalisation – cardiologie (03/02 au 14/02/2025)", mime="application/pdf",
         body=["Syndrome coronarien aigu sans sus-décalage de ST.", "Angioplastie de l'IVA avec pose d'un stent actif."]),
    dict(id="doc-jean-pierre-muller-remboursements-2025", patient="pat-jean-pierre-muller", cls="60", type="REMB",
         author="org-cpam-rhone", date="2025-12-31 03:00", title="Historique des remboursements 2025",
         mime="text/plain", body=["2025-11-04  Consultation médecine générale  30,00 EUR  remboursé 30,00 EUR (ALD)",
                                  "2025-02-14  Hospitalisation cardiologie     forfait pris en charge 100 %"]),
    dict(id="doc-jean-pierre-muller-remboursements-2026", patient="pat-jean-pierre-muller", cls="60", type="REMB",
         author="org-cpam-rhone", date="2026-11-01 03:00", title="Historique des remboursements 2026",
         mime="text/plain", body=["2026-10-27  Consultation médecine générale  30,00 EUR  remboursé 30,00 EUR (ALD)",
                                  "2026-10-22  Analyses de biologie          38,61 EUR  remboursé 38,61 EUR (ALD)"]),
    # --- Monique Renard: closed record (archived documents)
    dict(id="doc-monique-renard-cr-consultation-2026-02", patient="pat-monique-renard", cls="10", type="11488-4",
         author="pra-helene-garnier", date="2026-02-11 10:10", title="Consultation de médecine générale du 11/02/2026",
         mime="application/pdf", body=["Lombalgie commune.", "Kinésithérapie prescrite (10 séances)."]),
    dict(id="doc-monique-renard-certificat-2025-09", patient="pat-monique-renard", cls="52", type="89601-9",
         author="pra-helene-garnier", date="2025-09-04 09:00", title="Certificat médical de non contre-indication",
         mime="application/pdf", body=["Absence de contre-indication à la pratique de la randonnée pédestre."]),
    # --- Lucie Barbier: documents deposited by the patient, no médecin traitant
    dict(id="doc-lucie-barbier-cr-hospitalisation-etranger-2026-04", patient="pat-lucie-barbier", cls="90",
         type="DOCPAT03", author="patient", date="2026-04-19 20:45",
         title="Compte rendu d'hospitalisation à Valence (Espagne), traduction", mime="application/pdf",
         body=["Appendicectomie sous cœlioscopie le 02/04/2026.", "Suites simples, sortie à J2."]),
    dict(id="doc-lucie-barbier-radiographie-cheville-2026-04", patient="pat-lucie-barbier", cls="90",
         type="DOCPAT04", author="patient", date="2026-04-19 20:52", title="Radiographie de la cheville (photo)",
         mime="image/png", body=[]),
    dict(id="doc-lucie-barbier-certificat-vaccination-2026-05", patient="pat-lucie-barbier", cls="90",
         type="DOCPAT07", author="patient", date="2026-05-06 08:30",
         title="Certificat international de vaccination (fièvre jaune)", mime="application/pdf",
         body=["Vaccination contre la fièvre jaune le 28/04/2026, centre de vaccinations internationales."]),
    # --- David Cohen: expired and current temporary authorisations
    dict(id="doc-david-cohen-cr-irm-genou-2026-10", patient="pat-david-cohen", cls="31", type="18748-4",
         author="pra-olivier-lambert", date="2026-10-15 17:30", title="IRM du genou droit du 15/10/2026",
         mime="application/pdf", body=["Fissure horizontale de la corne postérieure du ménisque interne.",
                                       "Pas de lésion ligamentaire."]),
    dict(id="doc-david-cohen-cr-consultation-cardiologie-2026-11", patient="pat-david-cohen", cls="10",
         type="11488-4", author="pra-isabelle-moreau", date="2026-11-12 11:00",
         title="Consultation de cardiologie du 12/11/2026", mime="application/pdf",
         body=["Palpitations à l'effort.", "ECG normal, Holter ECG de 24 h programmé."]),
    dict(id="doc-david-cohen-prescription-biologie-2026-11", patient="pat-david-cohen", cls="42", type="PRESC-BIO",
         author="pra-marc-rousseau", date="2026-11-05 18:00", title="Prescription d'examens biologiques",
         mime="application/pdf", body=["NFS, ionogramme, TSH, ferritine."]),
    # --- Nicolas Fabre: blocked a whole establishment
    dict(id="doc-nicolas-fabre-cr-echographie-inguinale-2025-06", patient="pat-nicolas-fabre", cls="31",
         type="18748-4", author="pra-olivier-lambert", date="2025-06-02 10:40",
         title="Échographie de la région inguinale du 02/06/2025", mime="application/pdf",
         body=["Hernie inguinale droite indirecte, réductible.", "Pas de hernie controlatérale."]),
    dict(id="doc-nicolas-fabre-cr-consultation-2026-08", patient="pat-nicolas-fabre", cls="10", type="11488-4",
         author="pra-marc-rousseau", date="2026-08-25 12:15", title="Consultation de médecine générale du 25/08/2026",
         mime="application/pdf", body=["Suivi post-opératoire de hernie inguinale.", "Cicatrice propre."]),
    # --- Paul Henry: logically deleted document, lifted opposition
    dict(id="doc-paul-henry-cr-consultation-2026-03", patient="pat-paul-henry", cls="10", type="11488-4",
         author="pra-marc-rousseau", date="2026-03-09 10:00", title="Consultation de médecine générale du 09/03/2026",
         mime="application/pdf", body=["Bilan de santé annuel.", "Tension artérielle 128/80 mmHg."]),
    dict(id="doc-paul-henry-cr-consultation-erreur-2026-03", patient="pat-paul-henry", cls="10", type="11488-4",
         author="pra-marc-rousseau", date="2026-03-09 10:20", title="Consultation du 09/03/2026 (déposé par erreur)",
         mime="application/pdf", status="entered-in-error",
         body=["Document déposé dans le mauvais dossier, supprimé par son auteur."]),
    # --- Gérard Bonnet: emergency access (SAMU), masked document, authorised cardiologist
    dict(id="doc-gerard-bonnet-synthese-2026-09", patient="pat-gerard-bonnet", cls="11", type="60591-5",
         author="pra-antoine-lefebvre", date="2026-09-30 19:00", title="Volet de synthèse médicale",
         mime="application/pdf",
         body=["Antécédents : cardiopathie ischémique, diabète de type 2, tabagisme sevré.",
               "Allergie : pénicilline (urticaire).", "Traitement : aspirine 75 mg, atorvastatine 40 mg, metformine."]),
    dict(id="doc-gerard-bonnet-cr-tabacologie-2026-05", patient="pat-gerard-bonnet", cls="10", type="11488-4",
         author="pra-helene-garnier", date="2026-05-19 16:30", title="Consultation de tabacologie du 19/05/2026",
         mime="application/pdf", labels=["MASQUE_PS"], conf="R",
         body=["Sevrage tabagique depuis 3 mois.", "Substituts nicotiniques poursuivis."]),
    dict(id="doc-gerard-bonnet-cr-consultation-cardiologie-2026-06", patient="pat-gerard-bonnet", cls="10",
         type="11488-4", author="pra-isabelle-moreau", date="2026-06-10 09:45",
         title="Consultation de cardiologie du 10/06/2026", mime="application/pdf",
         body=["Angor stable, pas de récidive.", "Épreuve d'effort négative."]),
    # --- Hugo Petitjean: came of age on 2026-10-05
    dict(id="doc-hugo-petitjean-certificat-sport-2026-09", patient="pat-hugo-petitjean", cls="52", type="89601-9",
         author="pra-antoine-lefebvre", date="2026-09-12 17:00", title="Certificat d'aptitude au sport",
         mime="application/pdf", body=["Absence de contre-indication à la pratique du football en compétition."]),
    # --- Léo Martin (minor, both parents)
    dict(id="doc-leo-martin-vaccination-2026-03", patient="pat-leo-martin", cls="45", type="87273-9",
         author="pra-camille-petit", date="2026-03-10 17:20", title="Vaccination du 10/03/2026",
         mime="text/plain", body=["Rappel dTcaP (diphtérie, tétanos, coqueluche, poliomyélite), lot DTP26-1183."]),
    dict(id="doc-leo-martin-certificat-sport-2026-09", patient="pat-leo-martin", cls="52", type="89601-9",
         author="pra-camille-petit", date="2026-09-02 18:00", title="Certificat d'absence de contre-indication au judo",
         mime="application/pdf", body=["Absence de contre-indication à la pratique du judo."]),
    # --- Inès Haddad (minor): confidential care hidden from her legal representatives
    dict(id="doc-ines-haddad-cr-consultation-contraception-2026-10", patient="pat-ines-haddad", cls="10",
         type="11488-4", author="pra-julie-mercier", date="2026-10-14 15:00",
         title="Consultation de contraception du 14/10/2026", mime="application/pdf",
         labels=["INVISIBLE_REPRESENTANTS_LEGAUX"], conf="R",
         body=["Consultation à la demande de la patiente mineure, secret demandé (art. L1111-5 CSP).",
               "Contraception orale prescrite.", "Dépistage IST proposé."]),
    dict(id="doc-ines-haddad-prescription-contraception-2026-10", patient="pat-ines-haddad", cls="42",
         type="57833-6", author="pra-julie-mercier", date="2026-10-14 15:20", title="Ordonnance du 14/10/2026",
         mime="application/pdf", labels=["INVISIBLE_REPRESENTANTS_LEGAUX"], conf="R",
         body=["Lévonorgestrel/éthinylestradiol 100/20 µg : 1 comprimé par jour, 3 plaquettes."]),
    dict(id="doc-ines-haddad-remboursement-contraception-2026-10", patient="pat-ines-haddad", cls="60", type="REMB",
         author="org-cpam-rhone", date="2026-10-31 03:00", title="Remboursements d'octobre 2026 (soins confidentiels)",
         mime="text/plain", labels=["INVISIBLE_REPRESENTANTS_LEGAUX"], conf="R",
         body=["2026-10-14  Consultation sage-femme (contraception)  pris en charge 100 %, anonymat",
               "2026-10-15  Contraceptif oral                      pris en charge 100 %, anonymat"]),
    dict(id="doc-ines-haddad-certificat-sport-2026-09", patient="pat-ines-haddad", cls="52", type="89601-9",
         author="pra-antoine-lefebvre", date="2026-09-09 17:30", title="Certificat d'aptitude à l'EPS",
         mime="application/pdf", body=["Absence de contre-indication à la pratique de l'éducation physique et sportive."]),
    # --- Emma Caron (minor under guardianship)
    dict(id="doc-emma-caron-evaluation-pediatrique-2026-06", patient="pat-emma-caron", cls="10", type="68814-3",
         author="pra-camille-petit", date="2026-06-24 17:10", title="Bilan pédiatrique du 24/06/2026",
         mime="application/pdf", body=["Croissance harmonieuse (poids 42 kg, taille 152 cm).", "Asthme bien contrôlé."]),
    # --- Jade Moulin (newborn)
    dict(id="doc-jade-moulin-synthese-maternite-2026-02", patient="pat-jade-moulin", cls="11", type="78489-2",
         author="pra-nathalie-fontaine", date="2026-02-13 12:00", title="Synthèse enfant en maternité",
         mime="application/pdf", body=["Naissance à terme (39 SA + 2 j), poids 3 280 g, Apgar 10/10.",
                                       "Dépistage néonatal réalisé.", "Allaitement maternel."]),
    dict(id="doc-jade-moulin-vaccination-2026-06", patient="pat-jade-moulin", cls="45", type="87273-9",
         author="pra-camille-petit", date="2026-06-12 09:30", title="Vaccinations du 4e mois",
         mime="text/plain", body=["Hexavalent (DTCaP-Hib-HepB), lot HEX26-0522.", "Pneumocoque conjugué, lot PCV26-0911."]),
]
DOCS = {d["id"]: d for d in DOCUMENTS}


def binary_id(doc_id: str) -> str:
    return "bin-" + doc_id[len("doc-"):]


def _author_refs(d: dict) -> tuple[list[dict], str]:
    """DocumentReference.author and the custodian organisation id."""
    a = d["author"]
    if a == "patient":
        return [ref("Patient/" + d["patient"], pat_name(d["patient"]))], "org-cnam-mon-espace-sante"
    if a.startswith("org-"):
        return [ref("Organization/" + a, ORGS[a]["name"])], a
    org = PRAS[a]["org"]
    return [ref("Practitioner/" + a, pra_name(a)), ref("Organization/" + org, ORGS[org]["name"])], org


def document_pair(d: dict) -> tuple[dict, dict]:
    data = render(d["mime"], d["title"], d["body"], d["id"])
    bid = binary_id(d["id"])
    authors, custodian = _author_refs(d)
    type_system, type_display = DOC_TYPES[d["type"]]
    labels = [cc(CS_CONFIDENTIALITY, d.get("conf", "N"),
                 {"N": "normal", "R": "restricted"}[d.get("conf", "N")])]
    labels += [cc(CS_A07_VISIBILITY, code, A07_DISPLAY[code]) for code in d.get("labels", [])]
    if d["author"] == "patient":
        facility = cc(CS_A00_NON_PS, "EXP_PATIENT", "Expression personnelle du patient")
        setting = cc(CS_A00_NON_PS, "EXP_PATIENT", "Expression personnelle du patient")
    else:
        sector = ORGS[custodian]["sector"]
        setting_code = SETTING_BY_SECTOR.get(sector, "AMBULATOIRE")
        facility = cc(CS_R02_SECTOR, sector, SECTOR_DISPLAY[sector])
        setting = cc(CS_A01_SETTING, setting_code, SETTING_DISPLAY[setting_code])
    fmt_code, fmt_display = FORMAT_BY_MIME[d["mime"]]
    doc = {"resourceType": "DocumentReference", "id": d["id"]}
    if d.get("archived"):
        doc["extension"] = [{"url": EXT_IS_ARCHIVED, "valueBoolean": True}]
    doc.update({
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": seed_uuid(d["id"])},
        "status": d.get("status", "current"),
        "type": cc(type_system, d["type"], type_display),
        "category": [cc(CS_A03_CLASS, d["cls"], A03_DISPLAY[d["cls"]])],
        "subject": ref("Patient/" + d["patient"], pat_name(d["patient"])),
        "date": dt(d["date"]),
        "author": authors,
        "custodian": ref("Organization/" + custodian, ORGS[custodian]["name"]),
    })
    if d.get("replaces"):
        doc["relatesTo"] = [{"code": "replaces", "target": ref("DocumentReference/" + d["replaces"])}]
    doc["description"] = d["title"]
    doc["securityLabel"] = labels
    doc["content"] = [{
        "attachment": {
            "contentType": d["mime"], "language": "fr-FR", "url": "Binary/" + bid, "size": len(data),
            "hash": base64.b64encode(hashlib.sha1(data).digest()).decode(), "title": d["title"],
            "creation": dt(d["date"]),
        },
        "format": coding(CS_A11_FORMAT, fmt_code, fmt_display),
    }]
    # PDSm / MHD comprehensive: the service period (here the act's date) and the source patient (the subject)
    doc["context"] = {"period": {"start": dt(d["date"])}, "facilityType": facility, "practiceSetting": setting,
                      "sourcePatientInfo": ref("Patient/" + d["patient"])}
    binary = {"resourceType": "Binary", "id": bid, "contentType": d["mime"],
              "securityContext": ref("DocumentReference/" + d["id"]),
              "data": base64.b64encode(data).decode()}
    return doc, binary


def document_provenance(d: dict) -> dict:
    return {
        "resourceType": "Provenance", "id": "prov-" + d["id"],
        "target": [ref("DocumentReference/" + d["id"])], "recorded": dt(d["date"]),
        "activity": cc(CS_DATA_OPERATION, "UPDATE", "revise"),
        "agent": [{"type": cc(CS_PROVENANCE_AGENT, "author", "Author"),
                   "who": ref("Practitioner/" + d["author"], pra_name(d["author"])),
                   "onBehalfOf": ref("Organization/" + PRAS[d["author"]]["org"])}],
        "entity": [{"role": "revision", "what": ref("DocumentReference/" + d["replaces"])}],
    }


LISTS = [
    dict(id="list-ss-sophie-bernard-sortie-cardiologie-2026-03", kind="submissionset", patient="pat-sophie-bernard",
         date="2026-03-20 16:05", source="pra-isabelle-moreau", title="Documents de sortie – cardiologie",
         docs=["doc-sophie-bernard-cr-hospitalisation-cardiologie-2026-03",
               "doc-sophie-bernard-lettre-liaison-sortie-2026-03", "doc-sophie-bernard-ordonnance-sortie-2026-03"]),
    dict(id="list-folder-amelie-dubois-suivi-grossesse", kind="folder", patient="pat-amelie-dubois",
         date="2026-10-05 11:20", source="pra-nathalie-fontaine", title="Suivi de grossesse 2026",
         docs=["doc-amelie-dubois-cr-echographie-t1-2026-08", "doc-amelie-dubois-cr-biologie-2026-09",
               "doc-amelie-dubois-cr-grossesse-2026-10"]),
]


EXT_DESIGNATION_TYPE = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType"
EXT_SOURCE_ID = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId"


def _submission_extensions(lst: dict) -> list[dict]:
    """PDSm SubmissionSet: designationType (the source's sector, as in the PDSm example) and sourceId (1..1)."""
    org = next(p["org"] for p in PRACTITIONERS if p["id"] == lst["source"])
    sector = ORGS[org]["sector"]
    return [{"url": EXT_DESIGNATION_TYPE, "valueCodeableConcept": cc(CS_R02_SECTOR, sector, SECTOR_DISPLAY[sector])},
            {"url": EXT_SOURCE_ID, "valueIdentifier": {"system": "urn:ietf:rfc:3986", "value": seed_uuid("source-" + org)}}]


def list_resource(lst: dict) -> dict:
    """An MHD SubmissionSet or Folder; `source` is the author's PractitionerRole, as PDSm allows."""
    display = {"submissionset": "SubmissionSet as a FHIR List", "folder": "Folder as a FHIR List"}
    extension = _submission_extensions(lst) if lst["kind"] == "submissionset" else []
    return {
        "resourceType": "List", "id": lst["id"], **({"extension": extension} if extension else {}),
        "identifier": [{"use": "official", "system": "urn:ietf:rfc:3986", "value": seed_uuid(lst["id"])}],
        "status": "current", "mode": "working", "title": lst["title"],
        "code": cc(CS_MHD_LIST_TYPES, lst["kind"], display[lst["kind"]]),
        "subject": ref("Patient/" + lst["patient"], pat_name(lst["patient"])),
        "date": dt(lst["date"]), "source": ref("PractitionerRole/prr-" + lst["source"][4:], pra_name(lst["source"])),
        "entry": [{"item": ref("DocumentReference/" + d)} for d in lst["docs"]],
    }


# ---------------------------------------------------------------- ENS services: messages, agenda, measures
COMMUNICATIONS = [
    dict(id="com-amelie-dubois-2026-10-resultats", patient="pat-amelie-dubois", sent="2026-10-06 18:20",
         sender="Practitioner/pra-nathalie-fontaine", recipients=["Patient/pat-amelie-dubois"], category="notification",
         text=("Bonjour Madame Dubois, vos résultats de la prise de sang du 15 septembre sont normaux. "
               "Vous trouverez ci-joint le calendrier des examens du 2e trimestre. Bien cordialement, Dr Fontaine."),
         attachment=("bin-com-amelie-dubois-2026-10-calendrier", "Calendrier des examens du 2e trimestre",
                     ["Échographie morphologique : entre 20 et 25 SA.", "Glycémie (HGPO) : entre 24 et 28 SA.",
                      "Consultation prénatale mensuelle."])),
    dict(id="com-amelie-dubois-2026-10-reponse", patient="pat-amelie-dubois", sent="2026-10-07 08:02",
         sender="Patient/pat-amelie-dubois", recipients=["Practitioner/pra-nathalie-fontaine"],
         in_response_to="com-amelie-dubois-2026-10-resultats", category=None,
         text=("Bonjour Docteur, merci beaucoup. Puis-je faire l'échographie morphologique à la clinique "
               "plutôt qu'en ville ? Bonne journée, Amélie Dubois.")),
    dict(id="com-jean-pierre-muller-2026-10-hba1c", patient="pat-jean-pierre-muller", sent="2026-10-23 12:10",
         sender="Practitioner/pra-antoine-lefebvre", recipients=["Patient/pat-jean-pierre-muller"],
         category="instruction",
         text=("Bonjour Monsieur Muller, le laboratoire a corrigé votre résultat d'HbA1c (7,9 %). "
               "Nous en reparlerons lors de votre rendez-vous du 3 décembre. Dr Lefebvre.")),
    dict(id="com-leo-martin-2026-09-rappel-vaccin", patient="pat-leo-martin", sent="2026-09-02 18:30",
         sender="Practitioner/pra-camille-petit",
         recipients=["Patient/pat-leo-martin", "RelatedPerson/rp-leo-martin-mere", "RelatedPerson/rp-leo-martin-pere"],
         category="reminder",
         text="Bonjour, le rappel du vaccin contre le papillomavirus pourra être fait à partir des 11 ans de Léo. Dr Petit."),
    dict(id="com-philippe-morel-2026-11-rendez-vous", patient="pat-philippe-morel", sent="2026-11-19 09:05",
         sender="Practitioner/pra-anne-collin", recipients=["Patient/pat-philippe-morel"], category="notification",
         text=("Bonjour Monsieur Morel, je vous propose un rendez-vous le jeudi 26 novembre à 10 h au CHU "
               "Lyon-Confluence pour faire le point sur vos examens. Dr Collin.")),
]


def _ref_display(reference: str) -> str:
    kind, rid = reference.split("/")
    if kind == "Practitioner":
        return pra_name(rid)
    if kind == "Patient":
        return pat_name(rid)
    r = next(x for x in RELATED_PERSONS if x["id"] == rid)
    return f"{r['given']} {r['family'].upper()}"


def communication(c: dict) -> list[dict]:
    res = {"resourceType": "Communication", "id": c["id"]}
    if c.get("in_response_to"):
        res["inResponseTo"] = [ref("Communication/" + c["in_response_to"])]
    res["status"] = "completed"
    if c.get("category"):
        res["category"] = [cc(CS_COMM_CATEGORY, c["category"], c["category"].capitalize())]
    res.update({
        "subject": ref("Patient/" + c["patient"], pat_name(c["patient"])),
        "sent": dt(c["sent"]),
        "recipient": [ref(r, _ref_display(r)) for r in c["recipients"]],
        "sender": ref(c["sender"], _ref_display(c["sender"])),
        "payload": [{"contentString": c["text"]}],
    })
    out = [res]
    if c.get("attachment"):
        bid, title, lines = c["attachment"]
        data = render("application/pdf", title, lines, bid)
        res["payload"].append({"contentAttachment": {
            "contentType": "application/pdf", "language": "fr-FR", "url": "Binary/" + bid, "size": len(data),
            "hash": base64.b64encode(hashlib.sha1(data).digest()).decode(), "title": title}})
        out.append({"resourceType": "Binary", "id": bid, "contentType": "application/pdf",
                    "securityContext": ref("Communication/" + c["id"]), "data": base64.b64encode(data).decode()})
    return out


APPOINTMENTS = [
    dict(id="appt-philippe-morel-2026-11-26-consultation-annonce", patient="pat-philippe-morel", status="booked",
         start="2026-11-26 10:00", minutes=45, practitioner="pra-anne-collin", type="FOLLOWUP",
         description="Consultation d'annonce (oncologie)", created="2026-11-19 09:00"),
    dict(id="appt-amelie-dubois-2026-12-08-echographie-morphologique", patient="pat-amelie-dubois",
         status="booked", start="2026-12-08 14:30", minutes=30, practitioner="pra-nathalie-fontaine",
         type="ROUTINE", description="Échographie morphologique du 2e trimestre", created="2026-10-07 09:40"),
    dict(id="appt-jean-pierre-muller-2026-12-03-suivi-diabete", patient="pat-jean-pierre-muller", status="booked",
         start="2026-12-03 18:00", minutes=20, practitioner="pra-antoine-lefebvre", type="FOLLOWUP",
         description="Suivi du diabète", created="2026-10-27 18:25"),
    dict(id="appt-leo-martin-2026-03-10-vaccination", patient="pat-leo-martin", status="fulfilled",
         start="2026-03-10 17:00", minutes=20, practitioner="pra-camille-petit", type="ROUTINE",
         description="Consultation de vaccination", created="2026-02-20 12:00",
         related=["rp-leo-martin-mere"]),
    dict(id="appt-david-cohen-2026-11-12-cardiologie", patient="pat-david-cohen", status="fulfilled",
         start="2026-11-12 10:30", minutes=30, practitioner="pra-isabelle-moreau", type="ROUTINE",
         description="Consultation de cardiologie", created="2026-11-02 09:00"),
]


APPOINTMENT_TYPES = {"ROUTINE": "Routine appointment - default if not valued",
                     "FOLLOWUP": "A follow up visit from a previous appointment"}


def appointment(a: dict) -> dict:
    start = _dt.datetime.strptime(a["start"], "%Y-%m-%d %H:%M")
    end = (start + _dt.timedelta(minutes=a["minutes"])).strftime("%Y-%m-%d %H:%M")
    participants = [
        {"actor": ref("Patient/" + a["patient"], pat_name(a["patient"])), "required": "required", "status": "accepted"},
        {"actor": ref("Practitioner/" + a["practitioner"], pra_name(a["practitioner"])),
         "required": "required", "status": "accepted"},
    ]
    participants += [{"actor": ref("RelatedPerson/" + r, _ref_display("RelatedPerson/" + r)),
                      "required": "optional", "status": "accepted"} for r in a.get("related", [])]
    return {
        "resourceType": "Appointment", "id": a["id"], "status": a["status"],
        "appointmentType": cc(CS_APPT_TYPE, a["type"], APPOINTMENT_TYPES[a["type"]]),
        "description": a["description"], "start": dt(a["start"]), "end": dt(end), "minutesDuration": a["minutes"],
        "created": dt(a["created"]), "participant": participants,
    }


VITALS = {  # LOINC code: (display, UCUM unit)
    "29463-7": ("Body weight", "kg"), "8302-2": ("Body height", "cm"),
    "2339-0": ("Glucose [Mass/volume] in Blood", "g/L"),
}
OBSERVATIONS = [
    dict(id="obs-amelie-dubois-poids-2026-10-01", patient="pat-amelie-dubois", code="29463-7", value=64.5,
         date="2026-10-01 07:30"),
    dict(id="obs-amelie-dubois-tension-2026-10-01", patient="pat-amelie-dubois", bp=(112, 68), date="2026-10-01 07:35"),
    dict(id="obs-jean-pierre-muller-glycemie-2026-11-20", patient="pat-jean-pierre-muller", code="2339-0",
         value=1.32, date="2026-11-20 07:10"),
    dict(id="obs-jean-pierre-muller-poids-2026-11-20", patient="pat-jean-pierre-muller", code="29463-7",
         value=92.4, date="2026-11-20 07:15"),
    dict(id="obs-gerard-bonnet-tension-2026-11-18", patient="pat-gerard-bonnet", bp=(152, 91), date="2026-11-18 19:40"),
    dict(id="obs-jade-moulin-poids-2026-11-15", patient="pat-jade-moulin", code="29463-7", value=8.1,
         date="2026-11-15 10:00", performer="RelatedPerson/rp-jade-moulin-mere"),
    dict(id="obs-jade-moulin-taille-2026-11-15", patient="pat-jade-moulin", code="8302-2", value=70,
         date="2026-11-15 10:05", performer="RelatedPerson/rp-jade-moulin-mere"),
]


def _quantity(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def observation(o: dict) -> dict:
    performer = o.get("performer", "Patient/" + o["patient"])
    res = {"resourceType": "Observation", "id": o["id"], "status": "final"}
    code = o.get("code", "85354-9")
    if code != "2339-0":
        res["category"] = [cc(CS_OBS_CATEGORY, "vital-signs", "Vital Signs")]
    if "bp" in o:
        res["code"] = cc(CS_LOINC, "85354-9", "Blood pressure panel with all children optional")
    else:
        res["code"] = cc(CS_LOINC, code, VITALS[code][0])
    res.update({"subject": ref("Patient/" + o["patient"], pat_name(o["patient"])),
                "effectiveDateTime": dt(o["date"]),
                "performer": [ref(performer, _ref_display(performer))]})
    if "bp" in o:
        res["component"] = [
            {"code": cc(CS_LOINC, "8480-6", "Systolic blood pressure"), "valueQuantity": _quantity(o["bp"][0], "mm[Hg]")},
            {"code": cc(CS_LOINC, "8462-4", "Diastolic blood pressure"), "valueQuantity": _quantity(o["bp"][1], "mm[Hg]")},
        ]
    else:
        res["valueQuantity"] = _quantity(o["value"], VITALS[code][1])
    return res


QUESTIONNAIRE_RESPONSES = [
    dict(id="qr-amelie-dubois-profil-medical-2026-07", patient="pat-amelie-dubois", authored="2026-07-02 20:55",
         allergies="Aucune", history="Aucun antécédent notable", smoker=False, blood="O+"),
    dict(id="qr-jean-pierre-muller-profil-medical-2026-05", patient="pat-jean-pierre-muller",
         authored="2026-05-14 21:30", allergies="Iode (réaction cutanée)",
         history="Diabète de type 2 ; syndrome coronarien aigu en 2025 (stent)", smoker=False, blood=None),
    dict(id="qr-lucie-barbier-profil-medical-2026-05", patient="pat-lucie-barbier", authored="2026-05-06 08:40",
         allergies="Pollens de graminées", history="Appendicectomie en 2026", smoker=True, blood="A+"),
]


def questionnaire_response(q: dict) -> dict:
    items = [
        {"linkId": "allergies", "text": "Allergies connues", "answer": [{"valueString": q["allergies"]}]},
        {"linkId": "antecedents", "text": "Antécédents médicaux et chirurgicaux",
         "answer": [{"valueString": q["history"]}]},
        {"linkId": "tabac", "text": "Fumez-vous ?", "answer": [{"valueBoolean": q["smoker"]}]},
    ]
    if q["blood"]:
        items.append({"linkId": "groupe-sanguin", "text": "Groupe sanguin", "answer": [{"valueString": q["blood"]}]})
    return {
        "resourceType": "QuestionnaireResponse", "id": q["id"], "questionnaire": QUESTIONNAIRE_PROFIL_MEDICAL,
        "status": "completed", "subject": ref("Patient/" + q["patient"], pat_name(q["patient"])),
        "authored": dt(q["authored"]), "author": ref("Patient/" + q["patient"], pat_name(q["patient"])),
        "item": items,
    }


# ---------------------------------------------------------------- bundles
def bundles() -> dict[str, list[dict]]:
    documents: list[dict] = []
    for d in DOCUMENTS:
        documents.extend(document_pair(d))
    documents += [document_provenance(d) for d in DOCUMENTS if d.get("replaces")]
    documents += [list_resource(lst) for lst in LISTS]
    messages: list[dict] = []
    for c in COMMUNICATIONS:
        messages.extend(communication(c))
    return {
        "01-organizations": [organization(o) for o in ORGANIZATIONS],
        "02-practitioners": [r for p in PRACTITIONERS for r in (practitioner(p), practitioner_role(p))],
        "03-patients": [patient(p) for p in PATIENTS],
        "04-relationships": ([related_person(r) for r in RELATED_PERSONS] + [care_team(c) for c in CARE_TEAMS]
                             + [consent(c) for c in CONSENTS]
                             + [consent_provenance(c) for c in CONSENTS if c.get("recorded_by")]),
        "05-documents": documents,
        "06-messages": (messages + [appointment(a) for a in APPOINTMENTS] + [observation(o) for o in OBSERVATIONS]
                        + [questionnaire_response(q) for q in QUESTIONNAIRE_RESPONSES]),
    }


# Each entry's fullUrl is its absolute URL on the project's canonical base, so that the relative references
# inside the resources resolve against it (bdl-7 and the validator's reference checks need a fullUrl).
CANONICAL_BASE = "https://dmp-fhir-server.example/fhir"


def transaction(name: str, resources: list[dict]) -> dict:
    return {
        "resourceType": "Bundle", "id": "seed-" + name, "type": "transaction",
        "entry": [{"fullUrl": f"{CANONICAL_BASE}/{r['resourceType']}/{r['id']}", "resource": r,
                   "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources],
    }


def write(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, resources in bundles().items():
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(transaction(name, resources), ensure_ascii=False, indent=2) + "\n",
                        encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for p in write(target):
        print(p)
