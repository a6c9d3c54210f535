"""Issue 10: each example of the issue, on the seed, no longer reproduces (classes 2 to 8; class 1 and the
paths of every story are in test_side_doors.py)."""

from __future__ import annotations

import base64

from tests.access.builders import (JSON_PATCH, assert_forbidden, assert_not_found, ok, params, patient, ref,
                                   search_ids)

CLAIRE, CLAIRE_MASKED = "pat-claire-martin", "doc-claire-martin-cr-consultation-gynecologie-2026-05"
MOREL, MOREL_HIDDEN = "pat-philippe-morel", "doc-philippe-morel-cr-rcp-2026-11"
INES, INES_SECRET = "pat-ines-haddad", "doc-ines-haddad-cr-consultation-contraception-2026-10"
LAMBERT, FONTAINE, MERCIER = ("Practitioner/pra-olivier-lambert", "Practitioner/pra-nathalie-fontaine",
                              "Practitioner/pra-julie-mercier")
BTG = {"mode": "bris_de_glace", "reason": "patient inconscient"}


def _decoded_text(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("latin-1")
    except ValueError:
        return ""


# -- class 2: traces that reveal -----------------------------------------------------------------------
def test_page_token_is_opaque_and_tampering_is_400(fresh_seed):
    collin = fresh_seed("Practitioner/pra-anne-collin")
    bundle = ok(collin.get(f"DocumentReference?patient=Patient/{MOREL}&_count=1&_sort=-date"))
    token = next(l["url"] for l in bundle["link"] if l["relation"] == "next").split("_page=")[1].split("&")[0]
    assert MOREL_HIDDEN not in _decoded_text(token) and "2026" not in _decoded_text(token)
    for tampered in (token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
                     base64.urlsafe_b64encode(b'{"a":[{"$regex":".*"},"x"],"d":1}').decode(), "x" * 3000):
        r = collin.get(f"DocumentReference?patient=Patient/{MOREL}&_count=1&_sort=-date&_page={tampered}")
        assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["_page"], r.text


def test_history_page_token_is_opaque(fresh_seed):
    system = fresh_seed.system
    bundle = ok(system.get("DocumentReference/_history?_count=1"))
    token = next(l["url"] for l in bundle["link"] if l["relation"] == "next").split("_page=")[1].split("&")[0]
    assert "doc-" not in _decoded_text(token)
    assert system.get(f"DocumentReference/_history?_count=1&_page={token[:-3]}xyz").status_code == 400


def test_professionals_search_naming_a_hidden_document_is_not_in_the_holders_traces(fresh_seed):
    ok(fresh_seed("Practitioner/pra-anne-collin").get(f"DocumentReference?_id={MOREL_HIDDEN}&_summary=count"))
    ok(fresh_seed("Practitioner/pra-anne-collin").get(f"DocumentReference?patient=Patient/{MOREL}&_id={MOREL_HIDDEN}"))
    assert MOREL_HIDDEN not in fresh_seed(f"Patient/{MOREL}").get("AuditEvent?_count=500").text


def test_minors_secret_carer_is_not_named_to_the_parents(fresh_seed):
    """Rule 7: Mercier is refused on the record (author only) and records an authorisation; the parents read
    neither the trace naming her nor the Consent."""
    mercier = fresh_seed(MERCIER, organization="Organization/org-css-lyon-7")
    mercier.get(f"Patient/{INES}")
    ok(fresh_seed(f"Patient/{INES}").post(f"Patient/{INES}/$authorize", params(actor=ref(MERCIER))), 200, 201)
    for parent in ("RelatedPerson/rp-ines-haddad-mere", "RelatedPerson/rp-ines-haddad-pere"):
        api = fresh_seed(parent)
        for path in ("AuditEvent?_count=500", f"Consent?patient=Patient/{INES}", f"Patient/{INES}/$everything"):
            text = api.get(path).text
            assert "pra-julie-mercier" not in text and "org-css-lyon-7" not in text, path
    assert "pra-julie-mercier" in fresh_seed(f"Patient/{INES}").get(f"Consent?patient=Patient/{INES}").text


# -- class 3: grants follow identity -------------------------------------------------------------------
def test_organization_claim_without_a_role_opens_no_masked_document(fresh_seed):
    lambert = fresh_seed(LAMBERT, organization="Organization/org-clinique-parc-blandan")
    assert_not_found(lambert.get(f"DocumentReference/{CLAIRE_MASKED}"))
    assert CLAIRE_MASKED not in search_ids(lambert, f"DocumentReference?patient=Patient/{CLAIRE}")[0]
    assert ok(fresh_seed(FONTAINE).get(f"DocumentReference/{CLAIRE_MASKED}"))["id"] == CLAIRE_MASKED


def test_break_glass_without_organization_claim_respects_the_establishment_block(fresh_seed):
    lambert = fresh_seed(LAMBERT, **BTG)                # works at org-imagerie-bellecour, blocked by Fabre
    assert_forbidden(lambert.get("Patient/pat-nicolas-fabre"))
    assert "pat-nicolas-fabre" not in search_ids(lambert, "Patient?_count=500")[0]
    assert not [d for d in search_ids(lambert, "DocumentReference?_count=500")[0] if "nicolas-fabre" in d]


def test_emergency_search_leaves_out_records_not_yet_open(fresh_seed):
    new = ok(fresh_seed.system.post("Patient", patient("pat-new-ens")))     # opens in six weeks
    assert new["id"] not in search_ids(fresh_seed("Practitioner/pra-emilie-roux", **BTG), "Patient?_count=500")[0]
    assert_forbidden(fresh_seed("Practitioner/pra-emilie-roux", **BTG).get(f"Patient/{new['id']}"))


# -- class 4: writes that widen access or change content ---------------------------------------------
def test_nobody_but_systems_replaces_patches_or_deletes_a_documents_binary(fresh_seed):
    binary = "bin-claire-martin-cr-consultation-2026-09"
    body = {"resourceType": "Binary", "id": binary, "contentType": "text/plain", "data": "eA==",
            "securityContext": {"reference": "DocumentReference/doc-claire-martin-cr-consultation-2026-09"}}
    before = ok(fresh_seed.system.get(f"Binary/{binary}"))
    for who in ("Practitioner/pra-antoine-lefebvre", LAMBERT, f"Patient/{CLAIRE}"):
        api = fresh_seed(who)
        assert api.put(f"Binary/{binary}", body).status_code in (404, 405)
        assert api.patch(f"Binary/{binary}", [{"op": "replace", "path": "/data", "value": "eA=="}],
                         headers=JSON_PATCH).status_code in (404, 405)
        assert api.delete(f"Binary/{binary}").status_code in (404, 405)
    assert ok(fresh_seed.system.get(f"Binary/{binary}")) == before


def test_binary_needs_a_readable_security_context(fresh_seed):
    lambert = fresh_seed(LAMBERT)
    assert lambert.post("Binary", {"resourceType": "Binary", "contentType": "text/plain", "data": "eA=="}
                        ).status_code == 422


def test_professional_cannot_grant_access_with_a_care_team(fresh_seed):
    team = {"resourceType": "CareTeam", "status": "active", "subject": {"reference": f"Patient/{CLAIRE}"},
            "participant": [{"member": {"reference": "Practitioner/pra-yann-le-gall"}}]}
    assert_forbidden(fresh_seed(LAMBERT).post("CareTeam", team))
    assert_forbidden(fresh_seed("Practitioner/pra-yann-le-gall").get(f"Patient/{CLAIRE}"))


# -- class 5: scopes -----------------------------------------------------------------------------------
def test_operations_need_the_scope_of_what_they_do(fresh_seed):
    claire = fresh_seed(f"Patient/{CLAIRE}", scope="patient/*.rs")
    for op in ("$mask", "$unmask"):
        assert_forbidden(claire.post(f"DocumentReference/doc-claire-martin-cr-consultation-2026-09/{op}", params()))
    assert_forbidden(claire.post(f"Patient/{CLAIRE}/$oppose", params(actor=ref(LAMBERT))))
    assert_forbidden(fresh_seed(f"Patient/{CLAIRE}", scope="user/Patient.r").post(
        f"Patient/{CLAIRE}/$authorize", params(actor=ref(LAMBERT))))


def test_carried_resources_need_a_read_scope(fresh_seed):
    gp = fresh_seed("Practitioner/pra-antoine-lefebvre", scope="user/Patient.rs")
    everything = ok(gp.get(f"Patient/{CLAIRE}/$everything"))
    assert {e["resource"]["resourceType"] for e in everything["entry"]} <= {"Patient", "OperationOutcome"}
    assert_forbidden(gp.get(f"Patient?_id={CLAIRE}&_revinclude=DocumentReference:patient"))
    assert_forbidden(gp.get(f"Patient?_has:DocumentReference:patient:status=current"))


# -- class 6: resources outside the compartment ---------------------------------------------------------
def test_provenance_of_a_document_belongs_to_its_record(fresh_seed):
    prov = "prov-doc-jean-pierre-muller-cr-biologie-2026-10-v2"
    assert ok(fresh_seed("Practitioner/pra-helene-garnier").get(f"Provenance/{prov}"))["id"] == prov
    assert_not_found(fresh_seed("Practitioner/pra-yann-le-gall").get(f"Provenance/{prov}"))
    assert search_ids(fresh_seed("Practitioner/pra-yann-le-gall"), "Provenance?_count=500") == (set(), 0)


# -- class 7: history per version ---------------------------------------------------------------------
def test_versions_are_judged_on_their_own_record(fresh_seed):
    system = fresh_seed.system
    obs = ok(system.get("Observation/obs-gerard-bonnet-tension-2026-11-18"))
    obs.pop("meta")
    moved = {k: v for k, v in obs.items() if k != "performer"}
    ok(system.put(f"Observation/{obs['id']}", {**moved, "subject": {"reference": f"Patient/{CLAIRE}"}}))
    claire = fresh_seed(f"Patient/{CLAIRE}")
    ok(claire.get(f"Observation/{obs['id']}"))
    assert_not_found(claire.get(f"Observation/{obs['id']}/_history/1"))
    history = ok(claire.get(f"Observation/{obs['id']}/_history"))
    assert [e["response"]["etag"] for e in history["entry"]] == ['W/"2"'] and history["total"] == 1


# -- class 8: smaller ones ----------------------------------------------------------------------------
def test_unmask_of_an_unmasked_document_makes_no_version(fresh_seed):
    doc = "doc-claire-martin-cr-consultation-2026-09"
    before = ok(fresh_seed.system.get(f"DocumentReference/{doc}"))["meta"]["versionId"]
    ok(fresh_seed(f"Patient/{CLAIRE}").post(f"DocumentReference/{doc}/$unmask", params()))
    assert ok(fresh_seed.system.get(f"DocumentReference/{doc}"))["meta"]["versionId"] == before


def test_a_revealed_document_cannot_be_hidden_again(fresh_seed):
    collin = fresh_seed("Practitioner/pra-anne-collin")
    ok(collin.post(f"DocumentReference/{MOREL_HIDDEN}/$reveal-to-patient", params()))
    assert_forbidden(collin.post(f"DocumentReference/{MOREL_HIDDEN}/$hide-from-patient", params()), "revealed")
    ok(fresh_seed(f"Patient/{MOREL}").get(f"DocumentReference/{MOREL_HIDDEN}"))


def test_professionals_do_not_read_the_holders_blocks_of_colleagues(fresh_seed):
    sophie = "pat-sophie-bernard"
    block = "cns-sophie-bernard-opposition-girard"
    moreau = fresh_seed("Practitioner/pra-isabelle-moreau")       # care team of Sophie Bernard
    assert_not_found(moreau.get(f"Consent/{block}"))
    assert block not in search_ids(moreau, f"Consent?patient=Patient/{sophie}")[0]
    assert block in search_ids(fresh_seed(f"Patient/{sophie}"), f"Consent?patient=Patient/{sophie}")[0]


def test_refused_validate_delete_is_traced_as_a_refusal(fresh_seed):
    lambert = fresh_seed(LAMBERT)
    doc = "doc-claire-martin-cr-consultation-2026-09"               # not his: only the author deletes
    r = ok(lambert.post(f"DocumentReference/{doc}/$validate?mode=delete", params()))
    assert "would be refused" in r["issue"][0]["diagnostics"]
    traces = ok(lambert.get("AuditEvent?_count=500"))["entry"]
    mine = [e["resource"] for e in traces if e["resource"]["subtype"][0]["code"] == "validate"]
    assert mine and mine[-1]["outcome"] == "4"
