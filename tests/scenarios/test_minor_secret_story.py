"""Rule 7 as a story: Inès Haddad (17) sees a midwife for contraception; at her request the midwife hides the
report from her parents; her mother, who follows her record, never sees it nor its reimbursement; Inès does, and
so does her GP."""

from __future__ import annotations

from tests.access.builders import (INVISIBLE_REPRESENTANTS_LEGAUX, assert_forbidden, assert_not_found, document, ids_of,
                                   ok, params, search_ids)

INES = "pat-ines-haddad"
MERCIER, LEFEBVRE = "Practitioner/pra-julie-mercier", "Practitioner/pra-antoine-lefebvre"
MOTHER, FATHER = "RelatedPerson/rp-ines-haddad-mere", "RelatedPerson/rp-ines-haddad-pere"


def test_minor_secret(fresh_seed):
    world = fresh_seed
    midwife = world(MERCIER, organization="Organization/org-css-lyon-7")
    mother = world(MOTHER)
    before, _ = search_ids(mother, f"DocumentReference?patient={INES}")
    assert before == {"doc-ines-haddad-certificat-sport-2026-09"}

    # the midwife has no authorisation on the record yet: she records Inès's consent, then writes
    body = {k: v for k, v in document("x", INES, (MERCIER, "Organization/org-css-lyon-7")).items() if k != "id"}
    assert_forbidden(midwife.post("DocumentReference", body))
    ok(midwife.post(f"Patient/{INES}/$authorize", params()), 200, 201)
    created = ok(midwife.post("DocumentReference", body), 201)
    # the parents' view changes until she hides it ... so she hides it at once
    ok(midwife.post(f"DocumentReference/{created['id']}/$hide-from-representatives", params()), 200)
    labels = {c["code"] for l in ok(world.system.get(f"DocumentReference/{created['id']}"))["securityLabel"]
              for c in l["coding"]}
    assert INVISIBLE_REPRESENTANTS_LEGAUX in labels

    for rep in (mother, world(FATHER)):
        assert_not_found(rep.get(f"DocumentReference/{created['id']}"))
        assert search_ids(rep, f"DocumentReference?patient={INES}") == (before, 1)
        assert ids_of(ok(rep.get(f"Patient/{INES}/$everything")), "DocumentReference") == before
        # the mother cannot undo it either
        assert rep.post(f"DocumentReference/{created['id']}/$unmask", params()).status_code == 404
    for who in (f"Patient/{INES}", LEFEBVRE, MERCIER):
        assert ok(world(who).get(f"DocumentReference/{created['id']}"), 200), who
    # the reimbursement of the seeded consultation is hidden too (R1111-33)
    assert_not_found(mother.get("DocumentReference/doc-ines-haddad-remboursement-contraception-2026-10"))
    assert ok(world(f"Patient/{INES}").get("DocumentReference/doc-ines-haddad-remboursement-contraception-2026-10"))
