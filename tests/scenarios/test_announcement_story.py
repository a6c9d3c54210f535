"""Rule 6 as a story: an oncologist's multidisciplinary-meeting report is hidden from Philippe Morel until the
announcement consultation; his GP sees it; after the consultation the GP reveals it and Philippe reads it."""

from __future__ import annotations

from tests.access.builders import assert_not_found, ids_of, ok, params, search_ids

MOREL, RCP = "pat-philippe-morel", "doc-philippe-morel-cr-rcp-2026-11"
COLLIN, ROUSSEAU = "Practitioner/pra-anne-collin", "Practitioner/pra-marc-rousseau"


def test_announcement_consultation_then_reveal(fresh_seed):
    world = fresh_seed
    holder = world(f"Patient/{MOREL}")
    # before the consultation: hidden from him on every path
    assert_not_found(holder.get(f"DocumentReference/{RCP}"))
    found, total = search_ids(holder, f"DocumentReference?patient={MOREL}")
    assert RCP not in found and total == len(found)
    assert RCP not in ids_of(ok(holder.get(f"Patient/{MOREL}/$everything")))
    # the professionals see it
    for who in (COLLIN, ROUSSEAU):
        assert ok(world(who).get(f"DocumentReference/{RCP}"), 200)
    # he cannot reveal it himself, nor mask it (he does not see it)
    assert holder.post(f"DocumentReference/{RCP}/$reveal-to-patient", params()).status_code in (403, 404)
    assert holder.post(f"DocumentReference/{RCP}/$mask", params()).status_code in (400, 404)
    # (a GP who is not the author changing the hiding date: tests/access/test_invisible_patient.py)

    # the consultation took place: his GP reveals the report
    ok(world(ROUSSEAU).post(f"DocumentReference/{RCP}/$reveal-to-patient", params()), 200)
    assert ok(holder.get(f"DocumentReference/{RCP}"), 200)
    found, total = search_ids(holder, f"DocumentReference?patient={MOREL}")
    assert RCP in found and total == len(found)
    # now he may mask it from other professionals (no cumulation any more)
    ok(holder.post(f"DocumentReference/{RCP}/$mask", params()), 200)
    assert ok(world(COLLIN).get(f"DocumentReference/{RCP}"), 200)      # the author
    assert ok(world(ROUSSEAU).get(f"DocumentReference/{RCP}"), 200)    # his médecin traitant
