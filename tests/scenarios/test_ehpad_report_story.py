"""Issue 4 "Show": an Ehpad nurse files a report; the holder masks it; the author and the médecin traitant still see
it, another GP does not; the holder blocks a cardiologist, who then gets nothing even with a care-team membership;
a SAMU regulator (centre_15) reads the record; the holder and the GP receive a notification.

Cast (seed_data/README.md): Robert Vidal (89, Ehpad resident, MT Dr Lefebvre), nurse Laure Gauthier and nurse
Karim Benali of the Ehpad Les Tilleuls (care team ct-robert-vidal-ehpad), GP Dr Rousseau (not his MT),
cardiologist Dr Moreau (CHU), SAMU regulator Dr Chevalier."""

from __future__ import annotations

from tests.access.builders import (MASQUE_PS, assert_forbidden, assert_not_found, care_team, days, ids_of, ok, params,
                                   ref, search_ids)

ROBERT = "pat-robert-vidal"
HOLDER = f"Patient/{ROBERT}"
EHPAD = "Organization/org-ehpad-les-tilleuls"
NURSE, COLLEAGUE = "Practitioner/pra-laure-gauthier", "Practitioner/pra-karim-benali"
MT, OTHER_GP = "Practitioner/pra-antoine-lefebvre", "Practitioner/pra-marc-rousseau"
CARDIOLOGIST, REGULATOR = "Practitioner/pra-isabelle-moreau", "Practitioner/pra-francois-chevalier"


def _report() -> dict:
    return {
        "resourceType": "DocumentReference", "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "34746-8", "display": "Nurse Note"}]},
        "category": [{"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/"
                                            "TRE-A03-ClasseDocument", "code": "10", "display": "Compte rendu"}]}],
        "subject": {"reference": HOLDER}, "date": days(0),
        "author": [{"reference": NURSE}, {"reference": EHPAD}],
        "description": "Bilan infirmier : chute nocturne, surveillance renforcée (document fictif)",
        "securityLabel": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                                       "code": "N"}]}],
        "content": [{"attachment": {"contentType": "text/plain", "data": "RG9jdW1lbnQgZmljdGlm"}}]}


def test_ehpad_nurse_report_masked_then_blocked_cardiologist_then_samu_regulator(fresh_seed):
    world = fresh_seed
    nurse = world(NURSE, organization=EHPAD)
    holder = world(HOLDER)

    # 1. the nurse files her report (the Ehpad care team lists her and the Ehpad)
    report = ok(nurse.post("DocumentReference", _report()), 201)
    rid = report["id"]
    assert rid in search_ids(world(MT), f"DocumentReference?patient={ROBERT}")[0]

    # another GP, authorised by the holder, sees the whole record (the report included) before the masking
    ok(holder.post(f"Patient/{ROBERT}/$authorize", params(actor=ref(OTHER_GP))), 200, 201)
    other_gp = world(OTHER_GP)
    before, before_total = search_ids(other_gp, f"DocumentReference?patient={ROBERT}")
    assert rid in before and before_total == len(before)

    # 2. the holder masks it
    masked = ok(holder.post(f"DocumentReference/{rid}/$mask", params()), 200)
    assert MASQUE_PS in {c["code"] for l in masked["securityLabel"] for c in l["coding"]}
    assert ok(holder.get(f"DocumentReference/{rid}"), 200)          # rule 1: the holder still sees it

    # 3. the author, her establishment and the médecin traitant still see it
    for api in (nurse, world(NURSE), world(COLLEAGUE, organization=EHPAD), world(MT)):
        assert ok(api.get(f"DocumentReference/{rid}"), 200)
        assert rid in search_ids(api, f"DocumentReference?patient={ROBERT}")[0]
    # ... the other GP does not: 404, absent from his searches, totals and $everything
    assert_not_found(other_gp.get(f"DocumentReference/{rid}"))
    after, after_total = search_ids(other_gp, f"DocumentReference?patient={ROBERT}")
    assert after == before - {rid} and after_total == before_total - 1
    assert rid not in ids_of(ok(other_gp.get(f"Patient/{ROBERT}/$everything")))
    # ... nor does a nurse of the same care team acting without her establishment
    assert_not_found(world(COLLEAGUE).get(f"DocumentReference/{rid}"))

    # 4. a cardiologist joins the care team, then the holder blocks her
    ok(world.system.put("CareTeam/ct-robert-vidal-cardiologie", care_team(
        "ct-robert-vidal-cardiologie", ROBERT, (CARDIOLOGIST,), on_behalf_of="Organization/org-chu-lyon-confluence")))
    cardiologist = world(CARDIOLOGIST)
    assert ok(cardiologist.get(f"Patient/{ROBERT}"), 200)
    ok(holder.post(f"Patient/{ROBERT}/$oppose", params(actor=ref(CARDIOLOGIST))), 200, 201)
    assert_forbidden(cardiologist.get(f"Patient/{ROBERT}"), "block")
    assert_forbidden(cardiologist.get(f"Patient/{ROBERT}/$everything"))
    assert search_ids(cardiologist, f"DocumentReference?patient={ROBERT}") == (set(), 0)
    assert search_ids(cardiologist, f"Patient?_id={ROBERT}&_revinclude=DocumentReference:subject") == (set(), 0)
    assert_forbidden(cardiologist.post(f"Patient/{ROBERT}/$authorize", params()), "block")
    assert_forbidden(world(CARDIOLOGIST, mode="bris_de_glace", reason="malaise").get(f"Patient/{ROBERT}"))

    # 5. a SAMU regulator reads the record in centre_15 mode (no authorisation needed), the masked report excepted
    regulator = world(REGULATOR, mode="centre_15", organization="Organization/org-samu-69")
    assert_forbidden(world(REGULATOR).get(f"Patient/{ROBERT}"))   # not in normal mode
    assert ok(regulator.get(f"Patient/{ROBERT}"), 200)
    seen, _ = search_ids(regulator, f"DocumentReference?patient={ROBERT}")
    assert seen and rid not in seen
    assert_not_found(regulator.get(f"DocumentReference/{rid}"))

    # 6. the holder and the GP are told
    for who in (HOLDER, MT):
        messages = [e["resource"] for e in ok(world(who).get(f"Communication?subject={HOLDER}&_count=100"))
                    .get("entry") or [] if e["resource"].get("sender", {}).get("reference") == "Device/dmp-fhir-server"]
        for_me = [m for m in messages if who in {r["reference"] for r in m.get("recipient") or []}]
        # the holder was also told of the nurse's new report (issue 12: notices of new documents)
        assert [m["about"] for m in for_me if m.get("about")] == ([[{"reference": f"DocumentReference/{rid}"}]]
                                                                  if who == HOLDER else [])
        for_me = [m for m in for_me if not m.get("about")]
        assert len(for_me) == 1, (who, messages)
        text = for_me[0]["payload"][0]["contentString"]
        assert "centre_15" in text and "pra-francois-chevalier" in text, text
    # the blocked cardiologist learns nothing of it
    assert search_ids(cardiologist, f"Communication?subject={HOLDER}") == (set(), 0)
