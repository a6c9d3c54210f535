"""Lifecycle as a story: Claire Martin closes her record; her GP and the radiologist she authorised are refused,
nobody can add a document, she still reads everything; she reactivates it and the access comes back."""

from __future__ import annotations

from fhir_server.access.acl import dmp_status
from tests.access.builders import assert_forbidden, document, ok, params, search_ids

CLAIRE = "pat-claire-martin"


def test_claire_martin_closes_then_reactivates(fresh_seed):
    world = fresh_seed
    holder, gp, radiologist = (world(f"Patient/{CLAIRE}"), world("Practitioner/pra-antoine-lefebvre"),
                               world("Practitioner/pra-olivier-lambert"))
    mine, total = search_ids(holder, f"DocumentReference?patient={CLAIRE}")
    assert total == len(mine) == 4
    assert search_ids(radiologist, f"DocumentReference?patient={CLAIRE}")[1] == 3     # the masked one excepted

    assert_forbidden(gp.post(f"Patient/{CLAIRE}/$close-dmp", params(reason="x")), "holder")
    closed = ok(holder.post(f"Patient/{CLAIRE}/$close-dmp", params(reason="Je quitte la France")), 200)
    assert dmp_status(closed)["status"] == "FERME" and dmp_status(closed)["closureReason"] == "Je quitte la France"

    for api in (gp, radiologist, world("Practitioner/pra-emilie-roux", mode="bris_de_glace", reason="urgence")):
        assert_forbidden(api.get(f"Patient/{CLAIRE}"), "closed")
        assert search_ids(api, f"DocumentReference?patient={CLAIRE}") == (set(), 0)
    body = {k: v for k, v in document("x", CLAIRE, ("Practitioner/pra-antoine-lefebvre",)).items() if k != "id"}
    assert_forbidden(gp.post("DocumentReference", body), "closed")
    assert search_ids(holder, f"DocumentReference?patient={CLAIRE}") == (mine, 4)

    ok(holder.post(f"Patient/{CLAIRE}/$reactivate-dmp", params()), 200)
    assert ok(gp.get(f"Patient/{CLAIRE}"), 200)
    assert search_ids(radiologist, f"DocumentReference?patient={CLAIRE}")[1] == 3
    assert ok(gp.post("DocumentReference", body), 201)
