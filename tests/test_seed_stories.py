"""Each story of seed_data/README.md, through the API, as the rules say (one row per story)."""

import pytest

from fhir_server.seeding import load_seed

CLAIRE_MASKED = "doc-claire-martin-cr-consultation-gynecologie-2026-05"
BONNET_MASKED = "doc-gerard-bonnet-cr-tabacologie-2026-05"
MOREL_HIDDEN = "doc-philippe-morel-cr-rcp-2026-11"
INES_SECRET = "doc-ines-haddad-cr-consultation-contraception-2026-10"
BTG = {"mode": "bris_de_glace", "reason": "patient inconscient"}
C15 = {"mode": "centre_15"}

# (story, actor, token options, request path, expected status, ids that must be in the results, ids that must not)
STORIES = [
    ("1 holder sees her whole record, masked included", "Patient/pat-claire-martin", {},
     "DocumentReference?patient=Patient/pat-claire-martin", 200, [CLAIRE_MASKED], []),
    ("2 permanent authorisation, masked document hidden", "Practitioner/pra-olivier-lambert", {},
     "DocumentReference?patient=Patient/pat-claire-martin", 200, [], [CLAIRE_MASKED]),
    ("2 temporary authorisation recorded by a professional", "Practitioner/pra-isabelle-moreau", {},
     "Patient/pat-david-cohen", 200, [], []),
    ("2 active care team", "Practitioner/pra-isabelle-moreau", {}, "Patient/pat-michel-fournier", 200, [], []),
    ("2 care team listing an organisation", "Practitioner/pra-laure-gauthier",
     {"organization": "Organization/org-ehpad-les-tilleuls"}, "Patient/pat-robert-vidal", 200, [], []),
    ("2 inactive care team", "Practitioner/pra-isabelle-moreau", {}, "Patient/pat-jean-pierre-muller", 403, [], []),
    ("3 blocked professional in the care team", "Practitioner/pra-thomas-girard", {},
     "Patient/pat-sophie-bernard", 403, [], []),
    ("3 blocked establishment beats a personal authorisation", "Practitioner/pra-olivier-lambert", {},
     "Patient/pat-nicolas-fabre", 403, [], []),
    ("4 masked: author sees it", "Practitioner/pra-nathalie-fontaine", {}, f"DocumentReference/{CLAIRE_MASKED}", 200, [], []),
    ("4 masked: médecin traitant sees it", "Practitioner/pra-antoine-lefebvre", {},
     f"DocumentReference/{CLAIRE_MASKED}", 200, [], []),
    ("4 masked: another authorised professional gets 404", "Practitioner/pra-olivier-lambert", {},
     f"DocumentReference/{CLAIRE_MASKED}", 404, [], []),
    ("4 masked, another patient: authorised professional", "Practitioner/pra-isabelle-moreau", {},
     "DocumentReference?patient=Patient/pat-gerard-bonnet", 200, [], [BONNET_MASKED]),
    ("5 two médecins traitants see everything", "Practitioner/pra-helene-garnier", {},
     "Patient/pat-jean-pierre-muller", 200, [], []),
    ("6 hidden from the patient", "Patient/pat-philippe-morel", {},
     "DocumentReference?patient=Patient/pat-philippe-morel", 200, [], [MOREL_HIDDEN]),
    ("6 professionals still see it", "Practitioner/pra-anne-collin", {},
     "DocumentReference?patient=Patient/pat-philippe-morel", 200, [MOREL_HIDDEN], []),
    ("7 minor's secret hidden from a parent", "RelatedPerson/rp-ines-haddad-mere", {},
     "DocumentReference?patient=Patient/pat-ines-haddad", 200, ["doc-ines-haddad-certificat-sport-2026-09"],
     [INES_SECRET]),
    ("7 the minor sees it", "Patient/pat-ines-haddad", {}, "DocumentReference?patient=Patient/pat-ines-haddad",
     200, [INES_SECRET], []),
    ("9 break-glass allowed, masked still hidden", "Practitioner/pra-emilie-roux", BTG,
     "DocumentReference?patient=Patient/pat-gerard-bonnet", 200, ["doc-gerard-bonnet-synthese-2026-09"],
     [BONNET_MASKED]),
    ("9 break-glass refused after objection", "Practitioner/pra-emilie-roux", BTG, "Patient/pat-michel-fournier",
     403, [], []),
    ("9 centre 15 allowed", "Practitioner/pra-francois-chevalier", C15, "Patient/pat-michel-fournier", 200, [], []),
    ("9 centre 15 refused after objection", "Practitioner/pra-francois-chevalier", C15,
     "Patient/pat-jacqueline-perrin", 403, [], []),
    ("13 archived document found by isArchived", "Patient/pat-claire-martin", {},
     "DocumentReference?patient=Patient/pat-claire-martin&isArchived=true", 200,
     ["doc-claire-martin-cr-echographie-abdominale-2025-02"], []),
    ("15 reimbursements by the insurer (system)", "Organization/org-cpam-rhone", {"scope": "system/*.cruds"},
     "DocumentReference?patient=Patient/pat-claire-martin&category=60", 200, ["doc-claire-martin-remboursements-2026"], []),
    ("lifecycle closed record refused to her MT", "Practitioner/pra-helene-garnier", {}, "Patient/pat-monique-renard",
     403, [], []),
    ("lifecycle the holder still reads it", "Patient/pat-monique-renard", {}, "Patient/pat-monique-renard", 200, [], []),
    ("minors both parents represent Léo", "RelatedPerson/rp-leo-martin-pere", {}, "Patient/pat-leo-martin", 200, [], []),
    ("minors guardian", "RelatedPerson/rp-emma-caron-tutrice", {}, "Patient/pat-emma-caron", 200, [], []),
    ("minors came of age: representation ended", "RelatedPerson/rp-hugo-petitjean-mere", {},
     "Patient/pat-hugo-petitjean", 403, [], []),
    ("an adult's trusted person is not a representative", "RelatedPerson/rp-robert-vidal-fille", {},
     "Patient/pat-robert-vidal", 403, [], []),
    ("a professional with no link", "Practitioner/pra-yann-le-gall", {}, "Patient/pat-claire-martin", 403, [], []),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    from fastapi.testclient import TestClient

    from fhir_server.config import Settings
    from fhir_server.main import create_app
    settings = Settings(mongodb_uri=None, jwt_secret="seed-stories-secret-seed-stories", base_url="http://testserver/fhir")
    app = create_app(settings)
    load_seed(app.state.store, settings)
    return app, TestClient(app)


@pytest.mark.parametrize("story,actor,options,path,status,present,absent", STORIES, ids=[s[0] for s in STORIES])
def test_seeded_story(seeded, story, actor, options, path, status, present, absent):
    app, client = seeded
    token = app.state.tokens.mint(actor, **options)
    r = client.get(f"/fhir/{path}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == status, r.text
    body = r.json()
    if status >= 400:
        assert body["resourceType"] == "OperationOutcome"
        return
    if body["resourceType"] == "Bundle":
        ids = {e["resource"]["id"] for e in body.get("entry", [])}
        assert set(present) <= ids and not set(absent) & ids
        assert body["total"] == sum(1 for e in body.get("entry", []) if e["search"]["mode"] == "match")
