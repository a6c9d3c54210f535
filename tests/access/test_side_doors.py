"""Issue 10: every seeded story × every path, through the oracle (tests/access/oracle.py): for an actor who
may not see R, the answer about R is the answer for an absent id, and nothing they can read names R."""

from __future__ import annotations

import pytest

from tests.access.oracle import PROBES, Target, assert_indistinguishable, probes_for, readable_text

BTG = {"mode": "bris_de_glace", "reason": "patient inconscient"}
C15 = {"mode": "centre_15"}

# (story of seed_data/README.md, the actor, token options, the resource hidden from them, its patient)
STORIES = [
    ("4 masked document, authorised professional", "Practitioner/pra-olivier-lambert", {},
     "DocumentReference", "doc-claire-martin-cr-consultation-gynecologie-2026-05", "pat-claire-martin"),
    ("4 masked document, another patient", "Practitioner/pra-isabelle-moreau", {},
     "DocumentReference", "doc-gerard-bonnet-cr-tabacologie-2026-05", "pat-gerard-bonnet"),
    ("6 hidden from the holder", "Patient/pat-philippe-morel", {},
     "DocumentReference", "doc-philippe-morel-cr-rcp-2026-11", "pat-philippe-morel"),
    ("7 minor's secret, mother", "RelatedPerson/rp-ines-haddad-mere", {},
     "DocumentReference", "doc-ines-haddad-cr-consultation-contraception-2026-10", "pat-ines-haddad"),
    ("7 minor's secret reimbursement, father", "RelatedPerson/rp-ines-haddad-pere", {},
     "DocumentReference", "doc-ines-haddad-remboursement-contraception-2026-10", "pat-ines-haddad"),
    ("9 break-glass, masked still hidden", "Practitioner/pra-emilie-roux", BTG,
     "DocumentReference", "doc-gerard-bonnet-cr-tabacologie-2026-05", "pat-gerard-bonnet"),
    ("9 break-glass after objection", "Practitioner/pra-emilie-roux", BTG,
     "DocumentReference", "doc-michel-fournier-synthese-2026-01", "pat-michel-fournier"),
    ("9 centre 15 after objection", "Practitioner/pra-francois-chevalier", C15,
     "DocumentReference", "doc-jacqueline-perrin-cr-consultation-2026-07", "pat-jacqueline-perrin"),
    ("3 blocked professional", "Practitioner/pra-thomas-girard", {},
     "DocumentReference", "doc-sophie-bernard-cr-hospitalisation-cardiologie-2026-03", "pat-sophie-bernard"),
    ("3 blocked establishment", "Practitioner/pra-olivier-lambert", {},
     "DocumentReference", "doc-nicolas-fabre-cr-consultation-2026-08", "pat-nicolas-fabre"),
    ("2 expired authorisation (author of another document)", "Practitioner/pra-olivier-lambert", {},
     "DocumentReference", "doc-david-cohen-cr-consultation-cardiologie-2026-11", "pat-david-cohen"),
    ("2 inactive care team", "Practitioner/pra-isabelle-moreau", {},
     "DocumentReference", "doc-jean-pierre-muller-protocole-ald-2025-11", "pat-jean-pierre-muller"),
    ("lifecycle closed record", "Practitioner/pra-helene-garnier", {},
     "DocumentReference", "doc-monique-renard-cr-consultation-2026-02", "pat-monique-renard"),
    ("no link", "Practitioner/pra-yann-le-gall", {},
     "DocumentReference", "doc-claire-martin-cr-consultation-2026-09", "pat-claire-martin"),
    ("no link, a measure", "Practitioner/pra-yann-le-gall", {},
     "Observation", "obs-gerard-bonnet-tension-2026-11-18", "pat-gerard-bonnet"),
    ("minors came of age", "RelatedPerson/rp-hugo-petitjean-mere", {},
     "DocumentReference", "doc-hugo-petitjean-certificat-sport-2026-09", "pat-hugo-petitjean"),
    ("trusted person is not a representative", "RelatedPerson/rp-robert-vidal-fille", {},
     "DocumentReference", "doc-robert-vidal-ordonnance-2026-11", "pat-robert-vidal"),
    ("another patient's message", "Patient/pat-claire-martin", {},
     "Communication", "com-amelie-dubois-2026-10-resultats", "pat-amelie-dubois"),
]
CASES = [(s, p) for s in STORIES for p in probes_for(s[3])]


def _target(seed, resource_type: str, id: str, patient: str) -> Target:
    body = seed.system.get(f"{resource_type}/{id}").json()
    body.pop("meta", None)
    return Target(resource_type, id, patient, body)


@pytest.mark.parametrize("story,probe", CASES, ids=[f"{s[0]} | {p.name}" for s, p in CASES])
def test_hidden_answers_like_absent(seed, story, probe):
    _, actor, options, resource_type, id, patient = story
    assert_indistinguishable(seed(actor, **options), probe, _target(seed, resource_type, id, patient))


@pytest.mark.parametrize("story", STORIES, ids=[s[0] for s in STORIES])
def test_nothing_readable_names_the_hidden_resource(seed, story):
    """After those who may see R used every path on it, the actor who may not reads nothing naming R."""
    _, actor, options, resource_type, id, patient = story
    target = _target(seed, resource_type, id, patient)
    for seer in ("Practitioner/pra-antoine-lefebvre", "Organization/org-cpam-rhone"):
        api = seed(seer) if seer.startswith("Practitioner") else seed.system
        for probe in PROBES:
            if probe.name in ("read", "search _id", "count _id", "history", "_revinclude", "List?item",
                              "$validate delete", "Binary read"):
                probe.send(api, target)
    text = readable_text(seed(actor, **options), patient, actor)
    assert id not in text and target.binary_id not in text
