"""A professional masks at the holder's request (issue 12, item 6; decisions.PROFESSIONAL_MASKS_ON_REQUEST)."""

from __future__ import annotations

from fhir_server.access.decisions import MASKED_AT_REQUEST_URL
from tests.access.builders import JSON_PATCH, MASQUE_PS, assert_forbidden, assert_not_found, ok, params, ref

CLAIRE, DOC = "pat-claire-martin", "doc-claire-martin-cr-consultation-2026-09"
LAMBERT, MT = "Practitioner/pra-olivier-lambert", "Practitioner/pra-antoine-lefebvre"


def _request(document: dict) -> dict:
    label = next(l for l in document["securityLabel"] if any(c["code"] == MASQUE_PS for c in l["coding"]))
    ext = next(e for e in label["extension"] if e["url"] == MASKED_AT_REQUEST_URL)
    return {p["url"]: p.get("valueReference", {}).get("reference") or p.get("valueDateTime") for p in ext["extension"]}


def test_the_mt_masks_at_the_holders_request_recorded_and_visible_to_her(fresh_seed):
    masked = ok(fresh_seed(MT).post(f"DocumentReference/{DOC}/$mask",
                                    params(requestedBy=ref(f"Patient/{CLAIRE}"))), 200)
    recorded = _request(ok(fresh_seed(f"Patient/{CLAIRE}").get(f"DocumentReference/{DOC}")))
    assert recorded["requestedBy"] == f"Patient/{CLAIRE}" and recorded["recordedBy"] == MT and recorded["date"]
    assert _request(masked) == recorded
    assert_not_found(fresh_seed(LAMBERT).get(f"DocumentReference/{DOC}"))      # rule 4 applies from now on
    traces = ok(fresh_seed(f"Patient/{CLAIRE}").get(f"AuditEvent?patient=Patient/{CLAIRE}&agent={MT}"))
    assert any("mask" in str(e["resource"]) for e in traces["entry"])
    # only the holder lifts it
    assert_forbidden(fresh_seed(MT).post(f"DocumentReference/{DOC}/$unmask", params()), "holder")
    ok(fresh_seed(f"Patient/{CLAIRE}").post(f"DocumentReference/{DOC}/$unmask", params()), 200)
    assert ok(fresh_seed(LAMBERT).get(f"DocumentReference/{DOC}"))["id"] == DOC


def test_without_the_holders_request_or_for_someone_else_it_is_refused(fresh_seed):
    assert_forbidden(fresh_seed(LAMBERT).post(f"DocumentReference/{DOC}/$mask", params()), "holder")
    response = fresh_seed(LAMBERT).post(f"DocumentReference/{DOC}/$mask", params(requestedBy=ref("Patient/pat-sophie-bernard")))
    assert_forbidden(response, "request")
    bad = fresh_seed(LAMBERT).post(f"DocumentReference/{DOC}/$mask", params(requestedBy=ref(MT)))
    assert bad.status_code == 400
    # an emergency access cannot, nor an outsider
    btg = fresh_seed("Practitioner/pra-emilie-roux", mode="bris_de_glace", reason="malaise")
    assert btg.post(f"DocumentReference/{DOC}/$mask", params(requestedBy=ref(f"Patient/{CLAIRE}"))).status_code == 403
    outsider = fresh_seed("Practitioner/pra-yann-le-gall")
    # a resource of a record the outsider may not reach is 404, like an absent one (issue 10)
    assert outsider.post(f"DocumentReference/{DOC}/$mask", params(requestedBy=ref(f"Patient/{CLAIRE}"))).status_code == 404
    assert MASQUE_PS not in str(ok(fresh_seed.system.get(f"DocumentReference/{DOC}"))["securityLabel"])


def test_a_patch_that_claims_a_request_for_another_professional_is_refused(fresh_seed):
    label = {"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/"
                                   "TRE-A07-StatutVisibiliteDocument", "code": MASQUE_PS}],
             "extension": [{"url": MASKED_AT_REQUEST_URL, "extension": [
                 {"url": "requestedBy", "valueReference": {"reference": f"Patient/{CLAIRE}"}},
                 {"url": "recordedBy", "valueReference": {"reference": MT}}]}]}
    patch = [{"op": "add", "path": "/securityLabel/-", "value": label}]
    assert_forbidden(fresh_seed(LAMBERT).patch(f"DocumentReference/{DOC}", patch, headers=JSON_PATCH))
    assert ok(fresh_seed(MT).patch(f"DocumentReference/{DOC}", patch, headers=JSON_PATCH), 200)
