#!/usr/bin/env python3
"""Writes dmp-fhir.postman_collection.json and dmp-fhir.postman_environment.json (Postman v2.1).

The collection is generated so that its ~150 requests share one set of test helpers and stay consistent:
edit this file, then run `python3 tests/postman/build_collection.py` and commit both JSON files.
(Editing the JSON in Postman works too, but the next run of this script overwrites it.)

Every request asserts status AND body. The stories follow seed_data/README.md; "today" is 2026-11-22, the day of loading.
The collection is self-contained and re-runnable: it creates what it modifies, and undoes every change
it makes to seeded resources ($mask → $unmask, $oppose → $withdraw-opposition, $hide-from-patient →
$reveal-to-patient) in the same folder.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
NS = uuid.UUID("6f1c9a5e-2d1b-4f3e-9a57-0d3c2f1b7e11")  # stable ids for the Postman items

# --------------------------------------------------------------------------------------------------
# environment: the base URL and every seeded id the stories use
# --------------------------------------------------------------------------------------------------
ENV = {
    "port": "8080",
    "baseUrl": "http://127.0.0.1:{{port}}",
    "fhir": "{{baseUrl}}/fhir",
    "insSystem": "urn:oid:1.2.250.1.213.1.4.10",
    "visibilitySystem": "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/"
                        "TRE-A07-StatutVisibiliteDocument",
    "accessModeSystem": "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/TRE-R248-ModeAcces",
    "btgReason": "Patient inconscient admis au SAU, antécédents inconnus",
    # organisations
    "orgCpam": "org-cpam-rhone",
    "orgChu": "org-chu-lyon-confluence",
    "orgSamu": "org-samu-69",
    "orgImagerie": "org-imagerie-bellecour",
    "orgMspCroixRousse": "org-msp-croix-rousse",
    "orgMspGuillotiere": "org-msp-guillotiere",
    "orgClinique": "org-clinique-parc-blandan",
    "orgCss": "org-css-lyon-7",
    "orgEhpad": "org-ehpad-les-tilleuls",
    "orgPharmacie": "org-pharmacie-des-pentes",
    # professionals
    "praLefebvre": "pra-antoine-lefebvre",
    "praGarnier": "pra-helene-garnier",
    "praRousseau": "pra-marc-rousseau",
    "praLeGall": "pra-yann-le-gall",
    "praGirard": "pra-thomas-girard",
    "praMoreau": "pra-isabelle-moreau",
    "praCollin": "pra-anne-collin",
    "praRoux": "pra-emilie-roux",
    "praChevalier": "pra-francois-chevalier",
    "praFontaine": "pra-nathalie-fontaine",
    "praMercier": "pra-julie-mercier",
    "praLambert": "pra-olivier-lambert",
    "praBlanc": "pra-vincent-blanc",
    "praPerret": "pra-lucas-perret",
    "praRoche": "pra-martine-roche",
    # patients
    "patClaire": "pat-claire-martin",
    "claireIns": "284066938441230",
    "patSophie": "pat-sophie-bernard",
    "patFournier": "pat-michel-fournier",
    "patPerrin": "pat-jacqueline-perrin",
    "patMorel": "pat-philippe-morel",
    "patRenard": "pat-monique-renard",
    "patFabre": "pat-nicolas-fabre",
    "patBonnet": "pat-gerard-bonnet",
    "patHugo": "pat-hugo-petitjean",
    "patLeo": "pat-leo-martin",
    "patInes": "pat-ines-haddad",
    "patRobert": "pat-robert-vidal",
    "robertIns": "136127127005840",
    # legal representatives
    "rpInesMere": "rp-ines-haddad-mere",
    "rpInesPere": "rp-ines-haddad-pere",
    "rpLeoMere": "rp-leo-martin-mere",
    "rpHugoMere": "rp-hugo-petitjean-mere",
    # documents
    "docClaireMasked": "doc-claire-martin-cr-consultation-gynecologie-2026-05",
    "docClaireConsult": "doc-claire-martin-cr-consultation-2026-09",
    "docClaireArchived": "doc-claire-martin-cr-echographie-abdominale-2025-02",
    "docClaireRemb": "doc-claire-martin-remboursements-2026",
    "docSophieLettre": "doc-sophie-bernard-lettre-liaison-sortie-2026-03",
    "docBonnetSynthese": "doc-gerard-bonnet-synthese-2026-09",
    "docBonnetMasked": "doc-gerard-bonnet-cr-tabacologie-2026-05",
    "docMorelHidden": "doc-philippe-morel-cr-rcp-2026-11",
    "docMorelScanner": "doc-philippe-morel-cr-scanner-2026-10",
    "docInesCertificat": "doc-ines-haddad-certificat-sport-2026-09",
    "docInesConsult": "doc-ines-haddad-cr-consultation-contraception-2026-10",
    "docInesPresc": "doc-ines-haddad-prescription-contraception-2026-10",
    "docInesRemb": "doc-ines-haddad-remboursement-contraception-2026-10",
    "docRenardConsult": "doc-monique-renard-cr-consultation-2026-02",
    "docRobertDispensation": "doc-robert-vidal-dispensation-2026-11",
    "docRobertAdmission": "doc-robert-vidal-admission-ehpad-2024-03",
    # consents
    "cnsFournierBtg": "cns-michel-fournier-opposition-bris-de-glace",
    "cnsSophieGirard": "cns-sophie-bernard-opposition-girard",
}

# --------------------------------------------------------------------------------------------------
# shared JavaScript
# --------------------------------------------------------------------------------------------------
# Put at the top of every request's test script: small helpers, no assertion of their own.
PRELUDE = r"""
// --- helpers (generated by build_collection.py) ---
const body = (() => { try { return pm.response.json(); } catch (e) { return null; } })();
const v = (name) => pm.variables.get(name);
const ids = (b) => ((b && b.entry) || []).map((e) => e.resource && e.resource.id);
const refs = (b) => ((b && b.entry) || []).map((e) => e.resource && `${e.resource.resourceType}/${e.resource.id}`);
const labels = (r) => ((r && r.securityLabel) || []).flatMap((l) => (l.coding || []).map((c) => c.code));
const diagnostics = (b) => ((b && b.issue) || []).map((i) => i.diagnostics || '').join(' | ');
const expectOutcome = (status, code, fragment) => {
  pm.test(`${status} OperationOutcome (${code}${fragment ? ': ' + fragment : ''})`, () => {
    pm.response.to.have.status(status);
    pm.expect(body, 'JSON body').to.be.an('object');
    pm.expect(body.resourceType).to.eql('OperationOutcome');
    pm.expect(body.issue.map((i) => i.code)).to.include(code);
    if (fragment) pm.expect(diagnostics(body)).to.include(fragment);
  });
};
const expectResource = (status, type, id) => {
  pm.test(`${status} ${type}${id ? '/' + id : ''}`, () => {
    pm.response.to.have.status(status);
    pm.expect(body.resourceType).to.eql(type);
    if (id) pm.expect(body.id).to.eql(id);
  });
};
const expectSearchset = (total) => {
  pm.test(`200 searchset Bundle${total === undefined ? '' : ' with total ' + total}`, () => {
    pm.response.to.have.status(200);
    pm.expect(body.resourceType).to.eql('Bundle');
    pm.expect(body.type).to.eql('searchset');
    pm.expect(body.total, 'total').to.be.a('number');
    if (total !== undefined) pm.expect(body.total).to.eql(total);
    pm.expect((body.entry || []).length, 'entries on the page').to.be.at.most(body.total);
  });
};
const expectIncludes = (label, id) => pm.test(`${label}: ${id} is in the results`, () => pm.expect(ids(body)).to.include(id));
const expectExcludes = (label, id) => pm.test(`${label}: ${id} is absent`, () => pm.expect(ids(body)).to.not.include(id));
// --- end of helpers ---
""".strip("\n")

# Collection-level test script: runs after every request.
COLLECTION_TESTS = r"""
// Checks that hold for every FHIR response (CONTRACT.md, HTTP).
const path = pm.request.url.getPath();
pm.test('[every response] no server error (5xx)', () => pm.expect(pm.response.code).to.be.below(500));
if (path.startsWith('/fhir')) {
  pm.test('[every response] FHIR JSON', () => {
    pm.expect(pm.response.headers.get('Content-Type') || '').to.match(/^application\/(fhir\+)?json/);
  });
  if (pm.response.code >= 400) {
    pm.test('[every response] an error is an OperationOutcome', () => {
      pm.expect(pm.response.json().resourceType).to.eql('OperationOutcome');
    });
  }
}
""".strip("\n")

# --------------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------------
_counter = 0


def _id(*parts: str) -> str:
    global _counter
    _counter += 1
    return str(uuid.uuid5(NS, "/".join(parts) + f"#{_counter}"))


def _lines(js: str) -> list[str]:
    return js.strip("\n").split("\n")


def _prelude_for(script: str) -> list[str]:
    """The helper lines of PRELUDE that the script uses (directly or through another helper), in PRELUDE's order."""
    helpers = {}
    for line in _lines(PRELUDE):
        m = re.match(r"const (\w+) = ", line)
        if m:
            current = m.group(1)
            helpers[current] = [line]
        elif line.startswith("//"):
            continue
        else:
            helpers[current].append(line)
    wanted: set[str] = set()
    todo = [n for n in helpers if re.search(rf"\b{n}\b", script)]
    while todo:
        n = todo.pop()
        if n in wanted:
            continue
        wanted.add(n)
        code = "\n".join(helpers[n][1:]) + helpers[n][0].split("=", 1)[1]
        todo += [m for m in helpers if m != n and re.search(rf"\b{m}\b", code)]
    out = ["// helpers (generated by build_collection.py)"]
    for n, code in helpers.items():
        if n in wanted:
            out += code
    return out


def _block(lines: list[str]) -> list[str]:
    """A block of its own, so that the script's constants never clash with another script's or a sandbox global."""
    return ["{"] + ["  " + line if line else line for line in lines] + ["}"]


def request(name: str, method: str, path: str, *, token: str | None, tests: str, body=None,
            headers: dict | None = None, prerequest: str | None = None, description: str = "",
            base: str = "{{fhir}}") -> dict:
    """One Postman item. `token`: the collection variable holding the bearer token (None: no token)."""
    url = path if path.startswith("{{") else f"{base}/{path}"
    hdrs = [{"key": "Accept", "value": "application/fhir+json"}]
    if body is not None:
        hdrs.append({"key": "Content-Type", "value": "application/fhir+json"})
    for k, val in (headers or {}).items():
        hdrs.append({"key": k, "value": val})
    req: dict = {"method": method, "header": hdrs, "url": url, "description": description}
    if token:
        req["auth"] = {"type": "bearer", "bearer": [{"key": "token", "value": "{{" + token + "}}", "type": "string"}]}
    else:
        req["auth"] = {"type": "noauth"}
    if body is not None:
        raw = body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False)
        req["body"] = {"mode": "raw", "raw": raw, "options": {"raw": {"language": "json"}}}
    events = []
    if prerequest:
        events.append({"listen": "prerequest", "script": {"id": _id(name, "pre"), "type": "text/javascript",
                                                           "exec": _block(_lines(prerequest))}})
    events.append({"listen": "test", "script": {"id": _id(name, "test"), "type": "text/javascript",
                                                "exec": _block(_prelude_for(tests) + [""] + _lines(tests))}})
    return {"id": _id(name), "name": name, "event": events, "request": req}


def folder(name: str, description: str, items: list[dict]) -> dict:
    return {"id": _id(name), "name": name, "description": description, "item": items}


def params(*pairs) -> dict:
    """A FHIR Parameters body: params(("actor", {"valueReference": {...}}), ...)."""
    return {"resourceType": "Parameters", "parameter": [{"name": n, **val} for n, val in pairs]}


def actor_param(ref: str) -> dict:
    return params(("actor", {"valueReference": {"reference": ref}}))


EMPTY_PARAMS = {"resourceType": "Parameters"}

# --------------------------------------------------------------------------------------------------
# 00: public endpoints, authentication
# --------------------------------------------------------------------------------------------------
ALG_NONE_PRE = r"""
// An unsigned token (alg: none) claiming to be the trusted system: the server must refuse it.
const CryptoJS = require('crypto-js');
const b64url = (o) => CryptoJS.enc.Base64.stringify(CryptoJS.enc.Utf8.parse(JSON.stringify(o)))
  .replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
const now = Math.floor(Date.now() / 1000);
pm.collectionVariables.set('tok_alg_none', b64url({ alg: 'none', typ: 'JWT' }) + '.' +
  b64url({ sub: 'Organization/org-cpam-rhone', scope: 'system/*.cruds', purpose_of_use: 'normal', iat: now, exp: now + 3600 }) + '.');
"""

start = folder("00 Start: capability and authentication", "No token needed for the CapabilityStatement; "
               "every other request without a valid token is a 401 OperationOutcome.", [
    request("metadata without a token", "GET", "metadata", token=None, tests=r"""
expectResource(200, 'CapabilityStatement');
pm.test('FHIR R4 (4.0.1), JSON', () => {
  pm.expect(body.fhirVersion).to.eql('4.0.1');
  pm.expect(body.format.join(' ')).to.include('json');
});
const rest = (body.rest || [])[0] || {};
const types = (rest.resource || []).map((r) => r.type);
pm.test('the contract resources are listed', () => {
  ['Patient', 'DocumentReference', 'Binary', 'List', 'Consent', 'Communication', 'AuditEvent', 'Provenance']
    .forEach((t) => pm.expect(types).to.include(t));
});
const ops = (t) => ((rest.resource || []).find((r) => r.type === t) || {}).operation || [];
pm.test('the custom operations are published', () => {
  const docOps = ops('DocumentReference').map((o) => o.name);
  ['mask', 'unmask', 'hide-from-patient', 'reveal-to-patient', 'hide-from-representatives'].forEach((o) => pm.expect(docOps).to.include(o));
  const patOps = ops('Patient').map((o) => o.name);
  ['oppose', 'withdraw-opposition', 'oppose-emergency-access', 'authorize', 'close-dmp', 'reactivate-dmp', 'everything']
    .forEach((o) => pm.expect(patOps).to.include(o));
});
pm.test('AuditEvent is read and search only', () => {
  const ae = (rest.resource || []).find((r) => r.type === 'AuditEvent');
  const codes = (ae.interaction || []).map((i) => i.code);
  pm.expect(codes).to.include('read');
  pm.expect(codes).to.include('search-type');
  pm.expect(codes).to.not.include('create');
});
"""),
    request("OperationDefinition read without a token", "GET", "OperationDefinition/DocumentReference-mask",
            token=None, tests=r"""
expectResource(200, 'OperationDefinition');
pm.test('the published $mask definition', () => {
  pm.expect(body.code).to.eql('mask');
  pm.expect(body.url).to.eql('https://dmp-fhir-server.example/fhir/OperationDefinition/DocumentReference-mask');
});
"""),
    request("SearchParameter search by canonical url without a token", "GET",
            "SearchParameter?url=https://interop.esante.gouv.fr/ig/fhir/pdsm/SearchParameter/PDSm-isArchived",
            token=None, tests=r"""
expectResource(200, 'Bundle');
pm.test('exactly the PDSm isArchived parameter, no empty arrays', () => {
  pm.expect(body.total).to.eql(1);
  pm.expect(body.entry[0].resource.code).to.eql('isArchived');
  pm.expect(body.entry[0].fullUrl).to.match(/\/SearchParameter\//);
});
"""),
    request("401: a read without a token", "GET", "Patient/{{patClaire}}", token=None, tests=r"""
expectOutcome(401, 'login', 'Bearer');
"""),
    request("401: a search without a token", "GET", "DocumentReference?patient={{patClaire}}", token=None, tests=r"""
expectOutcome(401, 'login');
pm.test('no document leaks in the error', () => pm.expect(pm.response.text()).to.not.include('doc-claire-martin'));
"""),
    request("401: a malformed token", "GET", "Patient/{{patClaire}}", token="tok_malformed", tests=r"""
expectOutcome(401, 'login');
""", prerequest="pm.collectionVariables.set('tok_malformed', 'not.a.jwt');"),
    request("401: an unsigned token (alg none)", "GET", "Patient/{{patClaire}}", token="tok_alg_none",
            prerequest=ALG_NONE_PRE, tests=r"""
expectOutcome(401, 'login');
"""),
    request("400: /dev/token refuses bris_de_glace without a reason", "POST", "{{baseUrl}}/dev/token", token=None,
            body={"as": "Practitioner/{{praRoux}}", "mode": "bris_de_glace"}, tests=r"""
expectOutcome(400, 'invalid', 'reason');
"""),
])

# --------------------------------------------------------------------------------------------------
# 01: tokens for every actor, stored in collection variables
# --------------------------------------------------------------------------------------------------
TOKEN_TESTS = r"""
pm.test('200 with a signed bearer token', () => {
  pm.response.to.have.status(200);
  pm.expect(body.token_type).to.eql('Bearer');
  pm.expect(body.access_token.split('.')).to.have.lengthOf(3);
});
const CryptoJS = require('crypto-js');
const part = body.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
const claims = JSON.parse(CryptoJS.enc.Utf8.stringify(CryptoJS.enc.Base64.parse(part + '==='.slice((part.length + 3) % 4))));
const sent = JSON.parse(pm.variables.replaceIn(pm.request.body.raw));
pm.test(`claims: sub ${sent.as}, mode ${sent.mode || 'normal'}`, () => {
  pm.expect(claims.sub).to.eql(sent.as);
  pm.expect(claims.purpose_of_use).to.eql(sent.mode || 'normal');
  if (sent.scope) pm.expect(claims.scope).to.eql(sent.scope);
  if (sent.organization) pm.expect(claims.organization).to.eql(sent.organization);
  if (sent.reason) pm.expect(claims.access_reason).to.eql(sent.reason);
  pm.expect(claims.exp).to.be.above(Math.floor(Date.now() / 1000));
});
pm.collectionVariables.set('__VAR__', body.access_token);
"""


def token(var: str, label: str, as_: str, *, mode=None, reason=None, scope=None, organization=None) -> dict:
    body = {"as": as_}
    if mode:
        body["mode"] = mode
    if reason:
        body["reason"] = reason
    if scope:
        body["scope"] = scope
    if organization:
        body["organization"] = organization
    return request(f"token: {label}", "POST", "{{baseUrl}}/dev/token", token=None, body=body,
                   tests=TOKEN_TESTS.replace("__VAR__", var),
                   description=f"Stores the token in the collection variable `{var}`.")


tokens = folder("01 Tokens (POST /dev/token, development mode)",
                "One token per actor, stored in collection variables. Professionals act for their organisation "
                "(`organization` claim).", [
    token("tok_system", "trusted system (CPAM du Rhône, system/*.cruds)", "Organization/{{orgCpam}}",
          scope="system/*.cruds"),
    token("tok_claire", "holder Claire Martin", "Patient/{{patClaire}}"),
    token("tok_sophie", "holder Sophie Bernard", "Patient/{{patSophie}}"),
    token("tok_fournier", "holder Michel Fournier", "Patient/{{patFournier}}"),
    token("tok_morel", "holder Philippe Morel", "Patient/{{patMorel}}"),
    token("tok_ines", "holder Inès Haddad (17)", "Patient/{{patInes}}"),
    token("tok_renard", "holder Monique Renard (closed record)", "Patient/{{patRenard}}"),
    token("tok_bonnet", "holder Gérard Bonnet", "Patient/{{patBonnet}}"),
    token("tok_ines_mere", "legal representative: Inès Haddad's mother", "RelatedPerson/{{rpInesMere}}"),
    token("tok_ines_pere", "legal representative: Inès Haddad's father", "RelatedPerson/{{rpInesPere}}"),
    token("tok_leo_mere", "legal representative: Léo Martin's mother", "RelatedPerson/{{rpLeoMere}}"),
    token("tok_hugo_mere", "former representative: Hugo Petitjean's mother", "RelatedPerson/{{rpHugoMere}}"),
    token("tok_lefebvre", "GP Antoine Lefebvre (MT)", "Practitioner/{{praLefebvre}}",
          organization="Organization/{{orgMspCroixRousse}}"),
    token("tok_garnier", "GP Hélène Garnier (MT)", "Practitioner/{{praGarnier}}",
          organization="Organization/{{orgMspCroixRousse}}"),
    token("tok_rousseau", "GP Marc Rousseau (MT)", "Practitioner/{{praRousseau}}",
          organization="Organization/{{orgMspGuillotiere}}"),
    token("tok_le_gall", "GP Yann Le Gall (an outsider)", "Practitioner/{{praLeGall}}",
          organization="Organization/{{orgMspGuillotiere}}"),
    token("tok_girard", "blocked cardiologist Thomas Girard", "Practitioner/{{praGirard}}",
          organization="Organization/{{orgChu}}"),
    token("tok_moreau", "cardiologist Isabelle Moreau", "Practitioner/{{praMoreau}}",
          organization="Organization/{{orgChu}}"),
    token("tok_collin", "oncologist Anne Collin", "Practitioner/{{praCollin}}", organization="Organization/{{orgChu}}"),
    token("tok_fontaine", "gynaecologist Nathalie Fontaine", "Practitioner/{{praFontaine}}",
          organization="Organization/{{orgClinique}}"),
    token("tok_mercier", "midwife Julie Mercier", "Practitioner/{{praMercier}}", organization="Organization/{{orgCss}}"),
    token("tok_lambert", "radiologist Olivier Lambert", "Practitioner/{{praLambert}}",
          organization="Organization/{{orgImagerie}}"),
    token("tok_roux", "emergency physician Émilie Roux (normal mode)", "Practitioner/{{praRoux}}",
          organization="Organization/{{orgChu}}"),
    token("tok_roux_btg", "emergency physician Émilie Roux (bris_de_glace)", "Practitioner/{{praRoux}}",
          mode="bris_de_glace", reason="{{btgReason}}", organization="Organization/{{orgChu}}"),
    token("tok_chevalier_c15", "SAMU regulator François Chevalier (centre_15)", "Practitioner/{{praChevalier}}",
          mode="centre_15", organization="Organization/{{orgSamu}}"),
])

# --------------------------------------------------------------------------------------------------
# 02: trusted system: CRUD, versioning, If-Match, history
# --------------------------------------------------------------------------------------------------
NEW_INS_PRE = r"""
// A fresh test INS for this run, so the collection can run again on the same server.
let digits = '2';
for (let i = 0; i < 14; i++) digits += Math.floor(Math.random() * 10);
pm.collectionVariables.set('crudIns', digits);
"""

CRUD_PATIENT = {
    "resourceType": "Patient",
    "identifier": [{"use": "official", "system": "{{insSystem}}", "value": "{{crudIns}}",
                    "type": {"coding": [{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                                         "code": "INS-NIR-TEST"}]}}],
    "name": [{"use": "official", "family": "POSTMAN", "given": ["Camille"]}],
    "gender": "female",
    "birthDate": "1990-04-12",
}
CRUD_PATIENT_V2 = {**CRUD_PATIENT, "id": "{{crudPatientId}}",
                   "name": [{"use": "official", "family": "POSTMAN", "given": ["Camille", "Marie"]}],
                   "telecom": [{"system": "email", "value": "camille.postman@example.invalid"}]}
CRUD_DOC = {
    "resourceType": "DocumentReference",
    "status": "current",
    "type": {"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/"
                                   "TRE-A05-TypeDocComplementaire", "code": "REMB"}]},
    "category": [{"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/"
                                        "TRE-A03-ClasseDocument", "code": "60"}]}],
    "subject": {"reference": "Patient/{{crudPatientId}}"},
    "date": "2026-11-20T10:00:00+01:00",
    "author": [{"reference": "Organization/{{orgCpam}}"}],
    "securityLabel": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}]}],
    "content": [{"attachment": {"contentType": "text/plain", "data": "RG9jdW1lbnQgZmljdGlm",
                                "title": "Remboursements (document fictif)"}}],
}

crud = folder("02 Trusted system: CRUD, versioning, If-Match, history",
              "The insurer (a trusted system: Organization + system/*.cruds) creates a patient, updates it with "
              "If-Match, hits a 412, reads the history, adds a document and deletes what it created.", [
    request("create a Patient", "POST", "Patient", token="tok_system", body=CRUD_PATIENT, prerequest=NEW_INS_PRE,
            tests=r"""
expectResource(201, 'Patient');
pm.test('meta.versionId 1, ETag W/"1", Location with _history/1, Last-Modified', () => {
  pm.expect(body.meta.versionId).to.eql('1');
  pm.expect(pm.response.headers.get('ETag')).to.eql('W/"1"');
  pm.expect(pm.response.headers.get('Location')).to.match(new RegExp(`/fhir/Patient/${body.id}/_history/1$`));
  pm.expect(pm.response.headers.get('Last-Modified')).to.be.a('string').and.not.empty;
});
pm.test('the INS identifier is stored', () => pm.expect(body.identifier[0].value).to.eql(v('crudIns')));
pm.collectionVariables.set('crudPatientId', body.id);
"""),
    request("read it", "GET", "Patient/{{crudPatientId}}", token="tok_system", tests=r"""
expectResource(200, 'Patient', v('crudPatientId'));
pm.test('ETag W/"1"', () => pm.expect(pm.response.headers.get('ETag')).to.eql('W/"1"'));
pm.test('name as created', () => pm.expect(body.name[0].given).to.eql(['Camille']));
"""),
    request("find it by INS (Patient?identifier=system|value)", "GET",
            "Patient?identifier={{insSystem}}%7C{{crudIns}}", token="tok_system", tests=r"""
expectSearchset(1);
expectIncludes('Patient?identifier', v('crudPatientId'));
"""),
    request("update with If-Match W/\"1\"", "PUT", "Patient/{{crudPatientId}}", token="tok_system",
            body=CRUD_PATIENT_V2, headers={"If-Match": 'W/"1"'}, tests=r"""
expectResource(200, 'Patient', v('crudPatientId'));
pm.test('version 2', () => {
  pm.expect(body.meta.versionId).to.eql('2');
  pm.expect(pm.response.headers.get('ETag')).to.eql('W/"2"');
});
pm.test('the change is stored', () => pm.expect(body.name[0].given).to.eql(['Camille', 'Marie']));
"""),
    request("412: update again with the stale If-Match W/\"1\"", "PUT", "Patient/{{crudPatientId}}",
            token="tok_system", body=CRUD_PATIENT_V2, headers={"If-Match": 'W/"1"'}, tests=r"""
expectOutcome(412, 'conflict', 'version');
"""),
    request("version 2 is still the current one", "GET", "Patient/{{crudPatientId}}", token="tok_system", tests=r"""
expectResource(200, 'Patient', v('crudPatientId'));
pm.test('versionId 2 (the failed update changed nothing)', () => pm.expect(body.meta.versionId).to.eql('2'));
"""),
    request("history of the Patient", "GET", "Patient/{{crudPatientId}}/_history", token="tok_system", tests=r"""
pm.test('200 history Bundle with 2 versions, newest first', () => {
  pm.response.to.have.status(200);
  pm.expect(body.resourceType).to.eql('Bundle');
  pm.expect(body.type).to.eql('history');
  pm.expect(body.total).to.eql(2);
  pm.expect(body.entry.map((e) => e.resource.meta.versionId)).to.eql(['2', '1']);
  body.entry.forEach((e) => pm.expect(e.resource.id).to.eql(v('crudPatientId')));
});
"""),
    request("vread version 1", "GET", "Patient/{{crudPatientId}}/_history/1", token="tok_system", tests=r"""
expectResource(200, 'Patient', v('crudPatientId'));
pm.test('version 1 as it was', () => {
  pm.expect(body.meta.versionId).to.eql('1');
  pm.expect(body.name[0].given).to.eql(['Camille']);
});
"""),
    request("add a reimbursement document (class 60)", "POST", "DocumentReference", token="tok_system",
            body=CRUD_DOC, tests=r"""
expectResource(201, 'DocumentReference');
pm.test('subject and version', () => {
  pm.expect(body.subject.reference).to.eql(`Patient/${v('crudPatientId')}`);
  pm.expect(body.meta.versionId).to.eql('1');
  pm.expect(pm.response.headers.get('Location')).to.include(`/DocumentReference/${body.id}/_history/1`);
});
pm.collectionVariables.set('crudDocId', body.id);
"""),
    request("ITI-67: find it (DocumentReference?patient=…&status=current)", "GET",
            "DocumentReference?patient={{crudPatientId}}&status=current", token="tok_system", tests=r"""
expectSearchset(1);
expectIncludes('search', v('crudDocId'));
"""),
    request("delete the document", "DELETE", "DocumentReference/{{crudDocId}}", token="tok_system", tests=r"""
pm.test('200 or 204', () => pm.expect(pm.response.code).to.be.oneOf([200, 204]));
if (pm.response.code === 200) pm.test('an informational OperationOutcome', () => pm.expect(body.resourceType).to.eql('OperationOutcome'));
"""),
    request("delete the Patient", "DELETE", "Patient/{{crudPatientId}}", token="tok_system", tests=r"""
pm.test('200 or 204', () => pm.expect(pm.response.code).to.be.oneOf([200, 204]));
"""),
    request("410: the deleted Patient is gone", "GET", "Patient/{{crudPatientId}}", token="tok_system", tests=r"""
expectOutcome(410, 'deleted');
"""),
    request("the deleted Patient is no longer found by INS", "GET",
            "Patient?identifier={{insSystem}}%7C{{crudIns}}", token="tok_system", tests=r"""
expectSearchset(0);
"""),
    request("405: AuditEvent is written by the server only", "POST", "AuditEvent", token="tok_system",
            body={"resourceType": "AuditEvent", "type": {"system": "http://dicom.nema.org/resources/ontology/DCM",
                                                         "code": "110110"},
                  "recorded": "2026-11-22T10:00:00+01:00", "agent": [{"requestor": True}],
                  "source": {"observer": {"display": "postman"}}}, tests=r"""
expectOutcome(405, 'not-supported', 'AuditEvent');
"""),
])

# --------------------------------------------------------------------------------------------------
# 03: search (ITI-67, PDSm)
# --------------------------------------------------------------------------------------------------
search = folder("03 Search (ITI-67 / PDSm)", "DocumentReference and Patient searches as the trusted system and "
                "as the holder.", [
    request("trusted system: ITI-67 DocumentReference?patient=…&status=current", "GET",
            "DocumentReference?patient={{patClaire}}&status=current", token="tok_system", tests=r"""
expectSearchset(4);
pm.test('the consent rules do not apply to a trusted system: the masked document is there', () => {
  [v('docClaireConsult'), v('docClaireMasked'), v('docClaireArchived'), v('docClaireRemb')]
    .forEach((id) => pm.expect(ids(body)).to.include(id));
});
pm.test('every entry is a current DocumentReference of Claire Martin', () => {
  body.entry.forEach((e) => {
    pm.expect(e.resource.resourceType).to.eql('DocumentReference');
    pm.expect(e.resource.status).to.eql('current');
    pm.expect(e.resource.subject.reference).to.eql(`Patient/${v('patClaire')}`);
    pm.expect(e.search.mode).to.eql('match');
  });
});
"""),
    request("trusted system: Patient?identifier=INS", "GET", "Patient?identifier={{insSystem}}%7C{{claireIns}}",
            token="tok_system", tests=r"""
expectSearchset(1);
expectIncludes('Patient?identifier', v('patClaire'));
pm.test('the INS is the test NIR', () => {
  const ins = body.entry[0].resource.identifier.find((i) => i.system === v('insSystem'));
  pm.expect(ins.value).to.eql(v('claireIns'));
});
"""),
    request("trusted system: PDSm DocumentReference?patient.identifier=INS", "GET",
            "DocumentReference?patient.identifier={{insSystem}}%7C{{claireIns}}&status=current", token="tok_system",
            tests=r"""
expectSearchset(4);
expectIncludes('patient.identifier', v('docClaireRemb'));
"""),
    request("trusted system: the reimbursement documents (category 60)", "GET",
            "DocumentReference?patient={{patClaire}}&category=60", token="tok_system", tests=r"""
expectSearchset(1);
expectIncludes('category=60', v('docClaireRemb'));
"""),
    request("holder: PDSm isArchived=true", "GET", "DocumentReference?patient={{patClaire}}&isArchived=true",
            token="tok_claire", tests=r"""
expectSearchset(1);
expectIncludes('isArchived=true', v('docClaireArchived'));
"""),
    request("holder: paging (_count=2) keeps the total", "GET", "DocumentReference?patient={{patClaire}}&_count=2",
            token="tok_claire", tests=r"""
expectSearchset(4);
pm.test('2 entries on the first page and a next link', () => {
  pm.expect(body.entry).to.have.lengthOf(2);
  pm.expect((body.link || []).map((l) => l.relation)).to.include('next');
});
"""),
])

# --------------------------------------------------------------------------------------------------
# 04: transaction Bundle with urn:uuid references
# --------------------------------------------------------------------------------------------------
TX_PRE = r"""
const uuid = () => require('uuid').v4();
pm.collectionVariables.set('txPatientUuid', 'urn:uuid:' + uuid());
pm.collectionVariables.set('txBinaryUuid', 'urn:uuid:' + uuid());
pm.collectionVariables.set('txDocUuid', 'urn:uuid:' + uuid());
let digits = '1';
for (let i = 0; i < 14; i++) digits += Math.floor(Math.random() * 10);
pm.collectionVariables.set('txIns', digits);
"""
TX_BUNDLE = {
    "resourceType": "Bundle", "type": "transaction",
    "entry": [
        {"fullUrl": "{{txPatientUuid}}",
         "resource": {"resourceType": "Patient",
                      "identifier": [{"system": "{{insSystem}}", "value": "{{txIns}}"}],
                      "name": [{"family": "TRANSACTION", "given": ["Zoé"]}], "gender": "female",
                      "birthDate": "1985-03-04"},
         "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "{{txBinaryUuid}}",
         "resource": {"resourceType": "Binary", "contentType": "text/plain", "data": "RG9jdW1lbnQgZmljdGlm"},
         "request": {"method": "POST", "url": "Binary"}},
        {"fullUrl": "{{txDocUuid}}",
         "resource": {**CRUD_DOC, "subject": {"reference": "{{txPatientUuid}}"},
                      "content": [{"attachment": {"contentType": "text/plain", "url": "{{txBinaryUuid}}"}}]},
         "request": {"method": "POST", "url": "DocumentReference"}},
    ],
}
TX_BAD_PRE = r"""
let digits = '1';
for (let i = 0; i < 14; i++) digits += Math.floor(Math.random() * 10);
pm.collectionVariables.set('txBadIns', digits);
pm.collectionVariables.set('txBadPatientUuid', 'urn:uuid:' + require('uuid').v4());
"""
TX_BAD = {
    "resourceType": "Bundle", "type": "transaction",
    "entry": [
        {"fullUrl": "{{txBadPatientUuid}}",
         "resource": {"resourceType": "Patient", "identifier": [{"system": "{{insSystem}}", "value": "{{txBadIns}}"}],
                      "name": [{"family": "ATOMIQUE"}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "DocumentReference", "status": "not-a-status",
                      "subject": {"reference": "{{txBadPatientUuid}}"},
                      "content": [{"attachment": {"contentType": "text/plain", "data": "eA=="}}]},
         "request": {"method": "POST", "url": "DocumentReference"}},
    ],
}

transaction = folder("04 Transaction Bundle (urn:uuid references)",
                     "The trusted system posts a Patient, a Binary and a DocumentReference in one transaction; "
                     "urn:uuid references are rewritten; a failing entry rolls the whole Bundle back.", [
    request("POST a transaction: Patient + Binary + DocumentReference", "POST", "{{fhir}}", token="tok_system",
            body=TX_BUNDLE, prerequest=TX_PRE, tests=r"""
pm.test('200 transaction-response with 3 entries, all 201 Created', () => {
  pm.response.to.have.status(200);
  pm.expect(body.resourceType).to.eql('Bundle');
  pm.expect(body.type).to.eql('transaction-response');
  pm.expect(body.entry).to.have.lengthOf(3);
  body.entry.forEach((e) => pm.expect(e.response.status).to.match(/^201/));
});
const [p, b, d] = body.entry.map((e) => e.resource || {});
pm.test('entries in order: Patient, Binary, DocumentReference, each with Location _history/1', () => {
  pm.expect([p.resourceType, b.resourceType, d.resourceType]).to.eql(['Patient', 'Binary', 'DocumentReference']);
  body.entry.forEach((e) => pm.expect(e.response.location).to.match(/_history\/1$/));
});
pm.test('urn:uuid references are rewritten to the new ids', () => {
  pm.expect(d.subject.reference).to.eql(`Patient/${p.id}`);
  pm.expect(d.content[0].attachment.url).to.eql(`Binary/${b.id}`);
  pm.expect(pm.response.text()).to.not.include('urn:uuid:');
});
pm.collectionVariables.set('txPatientId', p.id);
pm.collectionVariables.set('txBinaryId', b.id);
pm.collectionVariables.set('txDocId', d.id);
"""),
    request("the new document is found by patient", "GET", "DocumentReference?patient={{txPatientId}}&status=current",
            token="tok_system", tests=r"""
expectSearchset(1);
expectIncludes('search', v('txDocId'));
"""),
    request("the new Binary is there", "GET", "Binary/{{txBinaryId}}", token="tok_system", tests=r"""
expectResource(200, 'Binary', v('txBinaryId'));
pm.test('contentType and data', () => {
  pm.expect(body.contentType).to.eql('text/plain');
  pm.expect(body.data).to.eql('RG9jdW1lbnQgZmljdGlm');
});
"""),
    request("422: a transaction with an invalid entry", "POST", "{{fhir}}", token="tok_system", body=TX_BAD,
            prerequest=TX_BAD_PRE, tests=r"""
expectOutcome(422, 'code-invalid', 'entry 1');
"""),
    request("all or nothing: the Patient of the failed transaction was not created", "GET",
            "Patient?identifier={{insSystem}}%7C{{txBadIns}}", token="tok_system", tests=r"""
expectSearchset(0);
"""),
])

# --------------------------------------------------------------------------------------------------
# 05: holder, masked documents, $mask / $unmask
# --------------------------------------------------------------------------------------------------
masked = folder("05 Masked documents (MASQUE_PS), $mask and $unmask",
                "Rule 4: Claire Martin sees her masked document; Lambert (permanent authorisation) gets 404 on it and "
                "never finds it; the author and the MT see it. Claire masks another document and unmasks it again.", [
    request("holder sees her whole record (4 documents, the masked one included)", "GET",
            "DocumentReference?patient={{patClaire}}", token="tok_claire", tests=r"""
expectSearchset(4);
expectIncludes('holder', v('docClaireMasked'));
expectIncludes('holder', v('docClaireConsult'));
"""),
    request("holder reads her masked document", "GET", "DocumentReference/{{docClaireMasked}}", token="tok_claire",
            tests=r"""
expectResource(200, 'DocumentReference', v('docClaireMasked'));
pm.test('labelled MASQUE_PS', () => pm.expect(labels(body)).to.include('MASQUE_PS'));
"""),
    request("Lambert (permanent authorisation) reads Claire Martin's Patient", "GET", "Patient/{{patClaire}}",
            token="tok_lambert", tests=r"""
expectResource(200, 'Patient', v('patClaire'));
"""),
    request("404: Lambert reads the masked document", "GET", "DocumentReference/{{docClaireMasked}}",
            token="tok_lambert", tests=r"""
expectOutcome(404, 'not-found');
pm.test('the 404 does not reveal the label', () => pm.expect(pm.response.text()).to.not.include('MASQUE'));
"""),
    request("Lambert's search: 3 documents, the masked one absent", "GET",
            "DocumentReference?patient={{patClaire}}&status=current", token="tok_lambert", tests=r"""
expectSearchset(3);
expectExcludes('Lambert', v('docClaireMasked'));
expectIncludes('Lambert', v('docClaireConsult'));
"""),
    request("Lambert's $everything leaves the masked document out", "GET", "Patient/{{patClaire}}/$everything",
            token="tok_lambert", tests=r"""
expectSearchset();
expectIncludes('$everything', v('docClaireConsult'));
expectExcludes('$everything', v('docClaireMasked'));
"""),
    request("the MT (Lefebvre) sees the masked document", "GET", "DocumentReference/{{docClaireMasked}}",
            token="tok_lefebvre", tests=r"""
expectResource(200, 'DocumentReference', v('docClaireMasked'));
"""),
    request("the author (Fontaine) sees the masked document", "GET", "DocumentReference/{{docClaireMasked}}",
            token="tok_fontaine", tests=r"""
expectResource(200, 'DocumentReference', v('docClaireMasked'));
"""),
    request("403: Lambert may not mask (only the holder or a representative)", "POST",
            "DocumentReference/{{docClaireConsult}}/$mask", token="tok_lambert", body=EMPTY_PARAMS, tests=r"""
expectOutcome(403, 'forbidden', 'holder');
"""),
    request("holder $mask on another document", "POST", "DocumentReference/{{docClaireConsult}}/$mask",
            token="tok_claire", body=EMPTY_PARAMS, tests=r"""
expectResource(200, 'DocumentReference', v('docClaireConsult'));
pm.test('now MASQUE_PS (and still N)', () => {
  pm.expect(labels(body)).to.include('MASQUE_PS');
  pm.expect(labels(body)).to.include('N');
});
"""),
    request("404: Lambert no longer reads it", "GET", "DocumentReference/{{docClaireConsult}}", token="tok_lambert",
            tests=r"""
expectOutcome(404, 'not-found');
"""),
    request("Lambert's search: 2 documents now", "GET", "DocumentReference?patient={{patClaire}}&status=current",
            token="tok_lambert", tests=r"""
expectSearchset(2);
expectExcludes('Lambert', v('docClaireConsult'));
expectExcludes('Lambert', v('docClaireMasked'));
"""),
    request("holder still sees all 4", "GET", "DocumentReference?patient={{patClaire}}", token="tok_claire", tests=r"""
expectSearchset(4);
expectIncludes('holder', v('docClaireConsult'));
"""),
    request("holder $unmask", "POST", "DocumentReference/{{docClaireConsult}}/$unmask", token="tok_claire",
            body=EMPTY_PARAMS, tests=r"""
expectResource(200, 'DocumentReference', v('docClaireConsult'));
pm.test('MASQUE_PS removed', () => pm.expect(labels(body)).to.not.include('MASQUE_PS'));
"""),
    request("Lambert reads it again", "GET", "DocumentReference/{{docClaireConsult}}", token="tok_lambert", tests=r"""
expectResource(200, 'DocumentReference', v('docClaireConsult'));
pm.test('not masked', () => pm.expect(labels(body)).to.not.include('MASQUE_PS'));
"""),
    request("Lambert's search: back to 3", "GET", "DocumentReference?patient={{patClaire}}&status=current",
            token="tok_lambert", tests=r"""
expectSearchset(3);
expectIncludes('Lambert', v('docClaireConsult'));
"""),
    request("400: rule 8, the author may not hide a masked document from the patient", "POST",
            "DocumentReference/{{docClaireMasked}}/$hide-from-patient", token="tok_fontaine", body=EMPTY_PARAMS,
            tests=r"""
pm.test('refused (4xx OperationOutcome naming rule 8)', () => {
  pm.expect(pm.response.code).to.be.oneOf([400, 409, 422]);
  pm.expect(body.resourceType).to.eql('OperationOutcome');
  pm.expect(diagnostics(body)).to.include('INVISIBLE_PATIENT and MASQUE_PS');
});
"""),
    request("403: a blocked establishment beats Lambert's own authorisation (Nicolas Fabre)", "GET",
            "Patient/{{patFabre}}", token="tok_lambert", tests=r"""
expectOutcome(403, 'forbidden', 'blocked');
"""),
])

# --------------------------------------------------------------------------------------------------
# 06: blocked cardiologist
# --------------------------------------------------------------------------------------------------
blocked = folder("06 Blocked professional (Girard on Sophie Bernard)",
                 "Rule 3: blocked although in an active care team and the author of a document: no access at all.", [
    request("403: read the Patient", "GET", "Patient/{{patSophie}}", token="tok_girard", tests=r"""
expectOutcome(403, 'forbidden', 'blocked');
"""),
    # inside a record closed to him a resource answers like an absent id (access/decisions.py,
    # REFUSED_RECORD_ANSWERS_NOT_FOUND); the record itself and its searches answer 403 with the reason
    request("404: read the document he wrote himself", "GET", "DocumentReference/{{docSophieLettre}}",
            token="tok_girard", tests=r"""
expectOutcome(404, 'not-found', 'not found');
"""),
    request("403: a search of her record is refused like a read", "GET", "DocumentReference?patient={{patSophie}}",
            token="tok_girard", tests=r"""
expectOutcome(403, 'forbidden', 'blocked');
pm.test('no entry', () => pm.expect(body.entry || []).to.be.empty);
"""),
    request("403: $everything", "GET", "Patient/{{patSophie}}/$everything", token="tok_girard", tests=r"""
expectOutcome(403, 'forbidden', 'blocked');
"""),
    request("403: $authorize for himself", "POST", "Patient/{{patSophie}}/$authorize", token="tok_girard",
            body=EMPTY_PARAMS, tests=r"""
expectOutcome(403, 'forbidden', 'blocked');
"""),
    request("the holder sees the block in her access directory", "GET", "Consent/{{cnsSophieGirard}}",
            token="tok_sophie", tests=r"""
expectResource(200, 'Consent', v('cnsSophieGirard'));
pm.test('an active deny naming Girard', () => {
  pm.expect(body.status).to.eql('active');
  pm.expect(body.provision.type).to.eql('deny');
  pm.expect(body.provision.actor.map((a) => a.reference.reference)).to.include(`Practitioner/${v('praGirard')}`);
});
"""),
])

# --------------------------------------------------------------------------------------------------
# 07: holder opposes and withdraws
# --------------------------------------------------------------------------------------------------
oppose = folder("07 The holder opposes a professional, then withdraws (Fournier and Moreau)",
                "Michel Fournier blocks the cardiologist of his care team, who loses all access, then lifts the block.", [
    request("Moreau (care team) reads Michel Fournier's record", "GET", "Patient/{{patFournier}}", token="tok_moreau",
            tests=r"""
expectResource(200, 'Patient', v('patFournier'));
"""),
    request("Moreau finds his documents", "GET", "DocumentReference?patient={{patFournier}}", token="tok_moreau",
            tests=r"""
expectSearchset();
pm.test('at least one document', () => pm.expect(body.total).to.be.above(0));
pm.collectionVariables.set('fournierDocsForMoreau', body.total);
"""),
    request("holder $oppose Moreau", "POST", "Patient/{{patFournier}}/$oppose", token="tok_fournier",
            body=actor_param("Practitioner/{{praMoreau}}"), tests=r"""
pm.test('201 Consent: an active deny naming Moreau', () => {
  pm.expect(pm.response.code).to.be.oneOf([200, 201]);
  pm.expect(body.resourceType).to.eql('Consent');
  pm.expect(body.status).to.eql('active');
  pm.expect(body.patient.reference).to.eql(`Patient/${v('patFournier')}`);
  pm.expect(body.provision.type).to.eql('deny');
  pm.expect(body.provision.actor.map((a) => a.reference.reference)).to.include(`Practitioner/${v('praMoreau')}`);
});
pm.collectionVariables.set('fournierBlockId', body.id);
"""),
    request("403: Moreau is blocked", "GET", "Patient/{{patFournier}}", token="tok_moreau", tests=r"""
expectOutcome(403, 'forbidden', 'blocked');
"""),
    request("403: Moreau's search of the record is refused", "GET", "DocumentReference?patient={{patFournier}}",
            token="tok_moreau", tests=r"""
expectOutcome(403, 'forbidden', 'blocked');
"""),
    request("403: Moreau cannot $authorize herself", "POST", "Patient/{{patFournier}}/$authorize",
            token="tok_moreau", body=EMPTY_PARAMS, tests=r"""
expectOutcome(403, 'forbidden', 'blocked');
"""),
    request("holder $withdraw-opposition", "POST", "Patient/{{patFournier}}/$withdraw-opposition",
            token="tok_fournier", body=actor_param("Practitioner/{{praMoreau}}"), tests=r"""
pm.test('200, the block is lifted', () => {
  pm.response.to.have.status(200);
  pm.expect(['OperationOutcome', 'Parameters', 'Consent']).to.include(body.resourceType);
  if (body.resourceType === 'OperationOutcome') pm.expect(diagnostics(body)).to.include('lifted');
});
"""),
    request("the block's Consent is kept, inactive", "GET", "Consent/{{fournierBlockId}}", token="tok_fournier",
            tests=r"""
expectResource(200, 'Consent', v('fournierBlockId'));
pm.test('status inactive', () => pm.expect(body.status).to.eql('inactive'));
"""),
    request("Moreau reads the record again", "GET", "Patient/{{patFournier}}", token="tok_moreau", tests=r"""
expectResource(200, 'Patient', v('patFournier'));
"""),
    request("Moreau finds the same documents as before", "GET", "DocumentReference?patient={{patFournier}}",
            token="tok_moreau", tests=r"""
expectSearchset(Number(v('fournierDocsForMoreau')));
"""),
])

# --------------------------------------------------------------------------------------------------
# 08: emergency access
# --------------------------------------------------------------------------------------------------
emergency = folder("08 Emergency access (bris_de_glace, centre_15)",
                   "Rule 9: break-glass with a reason on Gérard Bonnet (masked document still hidden), refused on "
                   "Michel Fournier (objected); centre 15 refused on Jacqueline Perrin (objected), allowed on Fournier.", [
    request("403: without break-glass Roux has no right on Gérard Bonnet", "GET", "Patient/{{patBonnet}}",
            token="tok_roux", tests=r"""
expectOutcome(403, 'forbidden', 'authoris');
"""),
    request("bris_de_glace: Roux reads Gérard Bonnet", "GET", "Patient/{{patBonnet}}", token="tok_roux_btg",
            tests=r"""
expectResource(200, 'Patient', v('patBonnet'));
"""),
    request("bris_de_glace: the synthesis is there, the masked document is not", "GET",
            "DocumentReference?patient={{patBonnet}}", token="tok_roux_btg", tests=r"""
expectSearchset();
expectIncludes('break-glass', v('docBonnetSynthese'));
expectExcludes('break-glass', v('docBonnetMasked'));
pm.test('total counts only what is shown', () => pm.expect(body.total).to.eql((body.entry || []).length));
"""),
    request("bris_de_glace: read the synthesis", "GET", "DocumentReference/{{docBonnetSynthese}}",
            token="tok_roux_btg", tests=r"""
expectResource(200, 'DocumentReference', v('docBonnetSynthese'));
"""),
    request("404: bris_de_glace does not show the masked document", "GET", "DocumentReference/{{docBonnetMasked}}",
            token="tok_roux_btg", tests=r"""
expectOutcome(404, 'not-found');
"""),
    request("403: emergency access is read-only", "POST", "DocumentReference", token="tok_roux_btg",
            body={"resourceType": "DocumentReference", "status": "current",
                  "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4"}]},
                  "category": [{"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/"
                                                      "TRE-A03-ClasseDocument", "code": "10"}]}],
                  "subject": {"reference": "Patient/{{patBonnet}}"},
                  "author": [{"reference": "Practitioner/{{praRoux}}"}],
                  "content": [{"attachment": {"contentType": "text/plain", "data": "RG9jdW1lbnQgZmljdGlm"}}]},
            tests=r"""
expectOutcome(403, 'forbidden');
"""),
    request("403: bris_de_glace refused on Michel Fournier (he objected)", "GET", "Patient/{{patFournier}}",
            token="tok_roux_btg", tests=r"""
expectOutcome(403, 'forbidden', 'objected to bris_de_glace');
"""),
    request("403: bris_de_glace on Michel Fournier: search refused", "GET",
            "DocumentReference?patient={{patFournier}}", token="tok_roux_btg", tests=r"""
expectOutcome(403, 'forbidden', 'objected to bris_de_glace');
"""),
    request("403: centre_15 refused on Jacqueline Perrin (she objected)", "GET", "Patient/{{patPerrin}}",
            token="tok_chevalier_c15", tests=r"""
expectOutcome(403, 'forbidden', 'objected to centre_15');
"""),
    request("403: centre_15 on Jacqueline Perrin: search refused", "GET",
            "DocumentReference?patient={{patPerrin}}", token="tok_chevalier_c15", tests=r"""
expectOutcome(403, 'forbidden', 'objected to centre_15');
"""),
    request("centre_15 is still allowed on Michel Fournier", "GET", "Patient/{{patFournier}}",
            token="tok_chevalier_c15", tests=r"""
expectResource(200, 'Patient', v('patFournier'));
"""),
])

# --------------------------------------------------------------------------------------------------
# 09: hidden from the patient
# --------------------------------------------------------------------------------------------------
hidden = folder("09 Hidden from the patient (INVISIBLE_PATIENT)",
                "Rule 6: the RCP report is invisible to Philippe Morel until the announcement consultation, visible "
                "to its author and his MT. Lambert hides his scanner report and reveals it again.", [
    request("holder's search: the hidden RCP report is absent", "GET", "DocumentReference?patient={{patMorel}}",
            token="tok_morel", tests=r"""
expectSearchset();
expectExcludes('holder', v('docMorelHidden'));
expectIncludes('holder', v('docMorelScanner'));
"""),
    request("404: holder reads the hidden RCP report", "GET", "DocumentReference/{{docMorelHidden}}",
            token="tok_morel", tests=r"""
expectOutcome(404, 'not-found');
"""),
    request("holder's $everything leaves it out", "GET", "Patient/{{patMorel}}/$everything", token="tok_morel",
            tests=r"""
expectSearchset();
expectExcludes('$everything', v('docMorelHidden'));
expectIncludes('$everything', v('docMorelScanner'));
"""),
    request("the author (Collin) reads it", "GET", "DocumentReference/{{docMorelHidden}}", token="tok_collin",
            tests=r"""
expectResource(200, 'DocumentReference', v('docMorelHidden'));
pm.test('labelled INVISIBLE_PATIENT', () => pm.expect(labels(body)).to.include('INVISIBLE_PATIENT'));
"""),
    request("the MT (Rousseau) finds it", "GET", "DocumentReference?patient={{patMorel}}", token="tok_rousseau",
            tests=r"""
expectSearchset();
expectIncludes('MT', v('docMorelHidden'));
"""),
    request("403: Collin may not hide a document she did not write", "POST",
            "DocumentReference/{{docMorelScanner}}/$hide-from-patient", token="tok_collin", body=EMPTY_PARAMS,
            tests=r"""
expectOutcome(403, 'forbidden', 'author');
"""),
    request("the author (Lambert) hides his scanner report from the patient", "POST",
            "DocumentReference/{{docMorelScanner}}/$hide-from-patient", token="tok_lambert", body=EMPTY_PARAMS,
            tests=r"""
expectResource(200, 'DocumentReference', v('docMorelScanner'));
pm.test('INVISIBLE_PATIENT with a "hidden until" at most one month ahead', () => {
  pm.expect(labels(body)).to.include('INVISIBLE_PATIENT');
  const until = (body.extension || []).find((e) => e.url.endsWith('/hidden-from-patient-until'));
  pm.expect(until, 'hidden-from-patient-until extension').to.be.an('object');
  const t = Date.parse(until.valueDateTime);
  pm.expect(t).to.be.above(Date.now());
  pm.expect(t).to.be.at.most(Date.now() + 32 * 24 * 3600 * 1000);
});
"""),
    request("404: the holder no longer reads it", "GET", "DocumentReference/{{docMorelScanner}}", token="tok_morel",
            tests=r"""
expectOutcome(404, 'not-found');
"""),
    request("the holder's search no longer lists it", "GET", "DocumentReference?patient={{patMorel}}",
            token="tok_morel", tests=r"""
expectSearchset();
expectExcludes('holder', v('docMorelScanner'));
"""),
    request("$reveal-to-patient after the announcement consultation", "POST",
            "DocumentReference/{{docMorelScanner}}/$reveal-to-patient", token="tok_lambert", body=EMPTY_PARAMS,
            tests=r"""
expectResource(200, 'DocumentReference', v('docMorelScanner'));
pm.test('INVISIBLE_PATIENT removed', () => pm.expect(labels(body)).to.not.include('INVISIBLE_PATIENT'));
"""),
    request("the holder reads it again", "GET", "DocumentReference/{{docMorelScanner}}", token="tok_morel", tests=r"""
expectResource(200, 'DocumentReference', v('docMorelScanner'));
"""),
])

# --------------------------------------------------------------------------------------------------
# 10: minors and legal representatives
# --------------------------------------------------------------------------------------------------
minors = folder("10 Minors and legal representatives",
                "Rule 7: Inès Haddad's parents do not see her confidential care; Léo Martin's mother sees his record; "
                "Hugo Petitjean's mother no longer represents him.", [
    request("Inès's mother sees only the sports certificate", "GET", "DocumentReference?patient={{patInes}}",
            token="tok_ines_mere", tests=r"""
expectSearchset(1);
expectIncludes('mother', v('docInesCertificat'));
[v('docInesConsult'), v('docInesPresc'), v('docInesRemb')].forEach((id) => expectExcludes('mother', id));
"""),
    request("Inès's father sees only the sports certificate", "GET", "DocumentReference?patient={{patInes}}",
            token="tok_ines_pere", tests=r"""
expectSearchset(1);
expectIncludes('father', v('docInesCertificat'));
[v('docInesConsult'), v('docInesPresc'), v('docInesRemb')].forEach((id) => expectExcludes('father', id));
"""),
    request("404: the mother reads the contraception consultation", "GET", "DocumentReference/{{docInesConsult}}",
            token="tok_ines_mere", tests=r"""
expectOutcome(404, 'not-found');
"""),
    request("404: the father reads the related reimbursement (R1111-33)", "GET", "DocumentReference/{{docInesRemb}}",
            token="tok_ines_pere", tests=r"""
expectOutcome(404, 'not-found');
"""),
    request("Inès sees all 4 of her documents", "GET", "DocumentReference?patient={{patInes}}", token="tok_ines",
            tests=r"""
expectSearchset(4);
[v('docInesCertificat'), v('docInesConsult'), v('docInesPresc'), v('docInesRemb')].forEach((id) => expectIncludes('Inès', id));
"""),
    request("the midwife (author) reads the consultation", "GET", "DocumentReference/{{docInesConsult}}",
            token="tok_mercier", tests=r"""
expectResource(200, 'DocumentReference', v('docInesConsult'));
pm.test('labelled INVISIBLE_REPRESENTANTS_LEGAUX', () => pm.expect(labels(body)).to.include('INVISIBLE_REPRESENTANTS_LEGAUX'));
"""),
    request("Léo's mother (legal representative) reads his record", "GET", "DocumentReference?patient={{patLeo}}",
            token="tok_leo_mere", tests=r"""
expectSearchset();
pm.test('Léo has documents and all are his', () => {
  pm.expect(body.total).to.be.above(0);
  body.entry.forEach((e) => pm.expect(e.resource.subject.reference).to.eql(`Patient/${v('patLeo')}`));
});
"""),
    request("403: Hugo came of age, his mother no longer represents him", "GET", "Patient/{{patHugo}}",
            token="tok_hugo_mere", tests=r"""
expectOutcome(403, 'forbidden');
"""),
])

# --------------------------------------------------------------------------------------------------
# 11: closed record
# --------------------------------------------------------------------------------------------------
closed = folder("11 Closed record (Monique Renard)", "Lifecycle: a closed record (FERME) gives no new access, "
                "not even to the MT; the holder still sees it.", [
    request("403: her MT (Garnier) reads the Patient", "GET", "Patient/{{patRenard}}", token="tok_garnier", tests=r"""
expectOutcome(403, 'forbidden', 'closed');
"""),
    request("404: her MT reads a document (like an absent id, REFUSED_RECORD_ANSWERS_NOT_FOUND)", "GET",
            "DocumentReference/{{docRenardConsult}}", token="tok_garnier", tests=r"""
expectOutcome(404, 'not-found', 'not found');
"""),
    request("403: her MT's search of the closed record", "GET", "DocumentReference?patient={{patRenard}}",
            token="tok_garnier", tests=r"""
expectOutcome(403, 'forbidden', 'closed');
"""),
    request("the holder reads her record: status FERME", "GET", "Patient/{{patRenard}}", token="tok_renard", tests=r"""
expectResource(200, 'Patient', v('patRenard'));
pm.test('dmp-status FERME with a closure date', () => {
  const ext = body.extension.find((e) => e.url.endsWith('/dmp-status'));
  const sub = Object.fromEntries(ext.extension.map((e) => [e.url, e]));
  pm.expect(sub.status.valueCode).to.eql('FERME');
  // the seed's dates move with the day it is loaded (fhir_server/seeding.py): a past day, at the seeded time
  pm.expect(sub.closureDate.valueDateTime).to.match(/^\d{4}-\d{2}-\d{2}T14:12:00\+02:00$/);
  pm.expect(Date.parse(sub.closureDate.valueDateTime)).to.be.below(Date.now());
});
"""),
])

# --------------------------------------------------------------------------------------------------
# 12: traces and notifications
# --------------------------------------------------------------------------------------------------
traces = folder("12 Access traces and notifications",
                "Rule 11: the holder reads every access to her record, finds the emergency access and the notice the "
                "server sent; a professional sees only his own traces.", [
    request("Gérard Bonnet reads the traces of his record", "GET", "AuditEvent?patient={{patBonnet}}",
            token="tok_bonnet", tests=r"""
expectSearchset();
pm.test('AuditEvents about him, written by the server', () => {
  pm.expect(body.total).to.be.above(0);
  body.entry.forEach((e) => {
    pm.expect(e.resource.resourceType).to.eql('AuditEvent');
    pm.expect(e.resource.entity.map((x) => (x.what || {}).reference)).to.include(`Patient/${v('patBonnet')}`);
  });
});
pm.test("Roux's accesses are traced", () => {
  const who = body.entry.flatMap((e) => e.resource.agent.filter((a) => a.requestor).map((a) => a.who.reference));
  pm.expect(who).to.include(`Practitioner/${v('praRoux')}`);
});
"""),
    request("... and finds the emergency access (purpose=bris_de_glace)", "GET",
            "AuditEvent?patient={{patBonnet}}&purpose=bris_de_glace", token="tok_bonnet", tests=r"""
expectSearchset();
pm.test('at least one break-glass trace', () => pm.expect(body.total).to.be.above(0));
pm.test('each one is a break-glass access (TRE_R248 bris_de_glace and v3 BTG)', () => {
  body.entry.forEach((e) => {
    const agent = e.resource.agent.find((a) => a.requestor);
    const codes = (agent.purposeOfUse || []).flatMap((p) => p.coding.map((c) => c.code));
    pm.expect(codes).to.include('bris_de_glace');
    pm.expect(codes).to.include('BTG');
  });
});
const roux = body.entry.filter((e) => e.resource.agent.some((a) => a.requestor &&
  a.who.reference === `Practitioner/${v('praRoux')}` && (a.purposeOfUse || []).some((p) => p.text === v('btgReason'))));
pm.test("Roux's accesses, with the reason she gave", () => pm.expect(roux.length).to.be.above(0));
pm.test('a successful read of his record among them', () => {
  pm.expect(roux.some((e) => e.resource.outcome === '0' &&
    (e.resource.subtype || []).some((s) => s.code === 'read'))).to.be.true;
});
"""),
    request("... and the notification the server sent him", "GET",
            "Communication?subject={{patBonnet}}&category=notification", token="tok_bonnet", tests=r"""
expectSearchset();
const notices = (body.entry || []).map((e) => e.resource)
  .filter((c) => (c.reasonCode || []).some((r) => r.coding.some((x) => x.code === 'bris_de_glace')));
pm.test('a bris_de_glace notice to him and to his MT', () => {
  pm.expect(notices.length).to.be.above(0);
  const n = notices.find((c) => c.recipient.length > 1) || notices[0];
  pm.expect(n.status).to.eql('completed');
  pm.expect(n.subject.reference).to.eql(`Patient/${v('patBonnet')}`);
  const to = n.recipient.map((r) => r.reference);
  pm.expect(to).to.include(`Patient/${v('patBonnet')}`);
  pm.expect(to).to.include(`Practitioner/${v('praLefebvre')}`);
});
pm.test('it names the physician and the reason', () => {
  const texts = notices.map((n) => n.payload.map((p) => p.contentString).join(' '));
  pm.expect(texts.some((t) => t.includes(`Practitioner/${v('praRoux')}`) && t.includes(v('btgReason')))).to.be.true;
});
"""),
    request("his MT (Lefebvre) got the notice too", "GET", "Communication?recipient=Practitioner/{{praLefebvre}}",
            token="tok_lefebvre", tests=r"""
expectSearchset();
pm.test('a bris_de_glace notice about Gérard Bonnet', () => {
  pm.expect((body.entry || []).some((e) => e.resource.subject.reference === `Patient/${v('patBonnet')}` &&
    (e.resource.reasonCode || []).some((r) => r.coding.some((x) => x.code === 'bris_de_glace')))).to.be.true;
});
"""),
    request("Claire Martin finds Lambert's denied read of her masked document", "GET",
            "AuditEvent?patient={{patClaire}}&agent=Practitioner/{{praLambert}}", token="tok_claire", tests=r"""
expectSearchset();
pm.test('only Lambert', () => {
  body.entry.forEach((e) => pm.expect(e.resource.agent.find((a) => a.requestor).who.reference)
    .to.eql(`Practitioner/${v('praLambert')}`));
});
pm.test('a failed read of the masked document is traced', () => {
  pm.expect(body.entry.some((e) => e.resource.outcome !== '0' &&
    e.resource.entity.some((x) => (x.what || {}).reference === `DocumentReference/${v('docClaireMasked')}`))).to.be.true;
});
"""),
    request("Claire Martin's own $mask / $unmask are in her traces", "GET",
            "AuditEvent?patient={{patClaire}}&agent=Patient/{{patClaire}}", token="tok_claire", tests=r"""
expectSearchset();
pm.test('mask and unmask operations traced', () => {
  const subtypes = body.entry.flatMap((e) => (e.resource.subtype || []).map((s) => s.code));
  pm.expect(subtypes).to.include('mask');
  pm.expect(subtypes).to.include('unmask');
});
"""),
    request("Lambert sees only his own traces on Claire Martin's record", "GET", "AuditEvent?patient={{patClaire}}",
            token="tok_lambert", tests=r"""
expectSearchset();
pm.test('every trace is his', () => {
  pm.expect(body.total).to.be.above(0);
  body.entry.forEach((e) => pm.expect(e.resource.agent.find((a) => a.requestor).who.reference)
    .to.eql(`Practitioner/${v('praLambert')}`));
});
"""),
    request("Sophie Bernard finds the blocked cardiologist's refused attempts", "GET",
            "AuditEvent?patient={{patSophie}}&agent=Practitioner/{{praGirard}}", token="tok_sophie", tests=r"""
expectSearchset();
pm.test('refused accesses (outcome not 0) by Girard', () => {
  pm.expect(body.total).to.be.above(0);
  pm.expect(body.entry.some((e) => e.resource.outcome !== '0')).to.be.true;
});
"""),
    request("Philippe Morel's traces do not reveal the hidden document", "GET", "AuditEvent?patient={{patMorel}}",
            token="tok_morel", tests=r"""
expectSearchset();
pm.test('the RCP report is named in no trace but those of his own requests for it', () => {
  // his own 404 read of it is traced as the read of an absent id would be: it names what he asked for
  const others = (body.entry || []).map((e) => e.resource)
    .filter((r) => !(r.agent || []).some((a) => a.who && a.who.reference === 'Patient/' + v('patMorel')));
  pm.expect(JSON.stringify(others)).to.not.include(v('docMorelHidden'));
});
"""),
    request("405: a trace cannot be deleted, not even by the trusted system", "DELETE", "AuditEvent/any-id",
            token="tok_system", tests=r"""
pm.test('refused with an OperationOutcome (405, or 404 for an unknown id)', () => {
  pm.expect(pm.response.code).to.be.oneOf([403, 404, 405]);
  pm.expect(body.resourceType).to.eql('OperationOutcome');
});
"""),
])

PARAMS_JS = r"""
const param = (b, name) => ((b && b.parameter) || []).filter((p) => p.name === name);
const partOf = (p, name) => ((p.part || []).find((q) => q.name === name) || {});
const valueOf = (p) => p && Object.keys(p).filter((k) => k.startsWith('value')).map((k) => p[k])[0];
const actorEntry = (b, name, ref) => param(b, name).find((p) => !partOf(p, 'onBehalfOf').valueReference
  && partOf(p, 'actor').valueReference.reference === ref);
"""

A03 = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
REPORT_BY_CARE_ASSISTANT = {
    "resourceType": "DocumentReference", "status": "current",
    "type": {"coding": [{"system": "http://loinc.org", "code": "34746-8", "display": "Nurse Note"}]},
    "category": [{"coding": [{"system": A03, "code": "10", "display": "Compte rendu"}]}],
    "subject": {"reference": "Patient/{{patRobert}}"}, "date": "2026-11-22T10:00:00+01:00",
    "author": [{"reference": "Practitioner/{{praRoche}}"}], "description": "Document fictif",
    "content": [{"attachment": {"contentType": "text/plain", "data": "RG9jdW1lbnQgZmljdGlm"}}]}

explained = folder("13 Access by profession, access status, who has access, who can see", "Issue 12: the access "
                   "matrix by profession (seed_data/README.md), $access-status, $access-list, $who-can-see.", [
    token("tok_blanc", "pharmacist Vincent Blanc", "Practitioner/{{praBlanc}}", organization="Organization/{{orgPharmacie}}"),
    token("tok_perret", "physiotherapist Lucas Perret", "Practitioner/{{praPerret}}",
          organization="Organization/{{orgMspCroixRousse}}"),
    token("tok_roche", "Ehpad care assistant Martine Roche", "Practitioner/{{praRoche}}",
          organization="Organization/{{orgEhpad}}"),
    request("the pharmacist finds four of Robert Vidal's six documents", "GET",
            "DocumentReference?patient=Patient/{{patRobert}}", token="tok_blanc", tests=r"""
expectSearchset(4);
expectIncludes('pharmacist', v('docRobertDispensation'));
expectExcludes('pharmacist', v('docRobertAdmission'));
"""),
    request("404: the physiotherapist may not read a dispensation", "GET", "DocumentReference/{{docRobertDispensation}}",
            token="tok_perret", tests=r"""
expectOutcome(404, 'not-found');
"""),
    request("the care assistant finds the care plan and the administration only", "GET",
            "DocumentReference?patient=Patient/{{patRobert}}", token="tok_roche", tests=r"""
expectSearchset(2);
"""),
    request("403: the care assistant may not feed a report", "POST", "DocumentReference", token="tok_roche",
            body=REPORT_BY_CARE_ASSISTANT, tests=r"""
expectOutcome(403, 'forbidden', 'access matrix');
"""),
    request("$access-status by INS: the authorised pharmacist", "GET",
            "Patient/$access-status?identifier={{insSystem}}|{{robertIns}}", token="tok_blanc", tests=PARAMS_JS + r"""
pm.test('record open, authorisation valid, patient given', () => {
  pm.response.to.have.status(200);
  pm.expect(valueOf(param(body, 'status')[0])).to.eql('open');
  pm.expect(valueOf(partOf(param(body, 'authorization')[0], 'status'))).to.eql('valid');
  pm.expect(valueOf(param(body, 'patient')[0]).reference).to.eql(`Patient/${v('patRobert')}`);
});
"""),
    request("$access-status: the blocked cardiologist learns only that he is blocked", "GET",
            "Patient/{{patSophie}}/$access-status", token="tok_girard", tests=PARAMS_JS + r"""
pm.test('blocked, and nothing else', () => {
  pm.response.to.have.status(200);
  pm.expect(valueOf(partOf(param(body, 'authorization')[0], 'status'))).to.eql('blocked');
  pm.expect(body.parameter.map((p) => p.name)).to.eql(['recordExists', 'status', 'authorization']);
});
"""),
    request("$access-list: Sophie Bernard sees the block and how to lift it", "GET",
            "Patient/{{patSophie}}/$access-list", token="tok_sophie", tests=PARAMS_JS + r"""
pm.test('Girard is listed as blocked, with $withdraw-opposition', () => {
  pm.response.to.have.status(200);
  const girard = actorEntry(body, 'professional', `Practitioner/${v('praGirard')}`);
  pm.expect(valueOf(partOf(girard, 'access'))).to.eql('blocked');
  pm.expect(valueOf(partOf(girard, 'action'))).to.include('$withdraw-opposition');
});
"""),
    request("$who-can-see: Gérard Bonnet's masked document", "GET", "DocumentReference/{{docBonnetMasked}}/$who-can-see",
            token="tok_bonnet", tests=PARAMS_JS + r"""
pm.test('his MT sees it, the authorised cardiologist does not (MASQUE_PS)', () => {
  pm.response.to.have.status(200);
  const mt = actorEntry(body, 'actor', `Practitioner/${v('praLefebvre')}`);
  pm.expect(valueOf(partOf(mt, 'canSee'))).to.eql(true);
  const moreau = actorEntry(body, 'actor', `Practitioner/${v('praMoreau')}`);
  pm.expect(valueOf(partOf(moreau, 'canSee'))).to.eql(false);
  pm.expect(valueOf(partOf(moreau, 'hiddenBy'))).to.eql('MASQUE_PS');
});
"""),
    request("403: $who-can-see is not for professionals", "GET", "DocumentReference/{{docBonnetMasked}}/$who-can-see",
            token="tok_lefebvre", tests=r"""
expectOutcome(403, 'forbidden', 'holder');
"""),
])

# --------------------------------------------------------------------------------------------------
# write the files
# --------------------------------------------------------------------------------------------------
COLLECTION = {
    "info": {
        "_postman_id": str(uuid.uuid5(NS, "collection")),
        "name": "dmp-fhir-server",
        "description": (
            "FHIR R4 server for the French DMP: the main stories per actor (seed_data/README.md), with "
            "assertions on status and body. Tokens come from POST /dev/token (development mode: start the server "
            "without DMP_FHIR_JWT_SECRET). Run against a freshly started `dmp-fhir serve`: "
            "`bash tests/postman/run.sh`. Generated by tests/postman/build_collection.py."),
        "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    },
    "event": [{"listen": "test", "script": {"id": str(uuid.uuid5(NS, "collection-tests")), "type": "text/javascript",
                                            "exec": _block(_lines(COLLECTION_TESTS))}}],
    "item": [start, tokens, crud, search, transaction, masked, blocked, oppose, emergency, hidden, minors, closed,
             traces, explained],
    "variable": [],
}

ENVIRONMENT = {
    "id": str(uuid.uuid5(NS, "environment")),
    "name": "dmp-fhir local",
    "values": [{"key": k, "value": val, "type": "default", "enabled": True} for k, val in ENV.items()],
    "_postman_variable_scope": "environment",
}


def main() -> None:
    (HERE / "dmp-fhir.postman_collection.json").write_text(
        json.dumps(COLLECTION, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (HERE / "dmp-fhir.postman_environment.json").write_text(
        json.dumps(ENVIRONMENT, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    n = sum(len(f["item"]) for f in COLLECTION["item"])
    print(f"wrote {n} requests in {len(COLLECTION['item'])} folders")


if __name__ == "__main__":
    main()
