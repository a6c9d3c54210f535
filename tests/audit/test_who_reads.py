"""Who reads access traces (R1111-43, L1111-19; issue 5, "Deliver" 4): the holder and the legal
representatives for their record, the médecin traitant, each professional for their own actions,
trusted systems; everyone else 403. A trace of an access to a document hidden from the holder is hidden
from them too, as long as the document is."""

from __future__ import annotations

import pytest

from .traces import only_trace, send

CLAIRE = "pat-claire-martin"
LEFEBVRE = "Practitioner/pra-antoine-lefebvre"      # MT of Claire Martin
LAMBERT = "Practitioner/pra-olivier-lambert"         # authorised on Claire Martin
MOREAU = "Practitioner/pra-isabelle-moreau"
COLLIN = "Practitioner/pra-anne-collin"              # hid a document from Philippe Morel
ROUSSEAU = "Practitioner/pra-marc-rousseau"          # MT of Philippe Morel
MOREL = "pat-philippe-morel"
HIDDEN_FROM_MOREL = "DocumentReference/doc-philippe-morel-cr-rcp-2026-11"


def trace_of(store, api, path: str) -> str:
    response, rid = send(api, "GET", path)
    assert response.status_code == 200, response.text
    return only_trace(store, rid)["_id"]


def visible(api, query: str) -> set[str]:
    response = api.get(query)
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle"
    return {e["resource"]["id"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "AuditEvent"}


@pytest.fixture
def claire_traces(seeded, as_actor) -> dict[str, str]:
    """One access to Claire Martin's record by her MT, one by Lambert, one by Lambert to David Cohen's."""
    return {
        "mt": trace_of(seeded, as_actor(LEFEBVRE), f"Patient/{CLAIRE}"),
        "lambert": trace_of(seeded, as_actor(LAMBERT), f"Patient/{CLAIRE}"),
        "other_patient": trace_of(seeded, as_actor(MOREAU), "Patient/pat-david-cohen"),
    }


# -- the holder ------------------------------------------------------------------------------------
def test_holder_sees_every_access_to_their_record(claire_traces, as_actor):
    seen = visible(as_actor(f"Patient/{CLAIRE}"), f"AuditEvent?patient=Patient/{CLAIRE}")
    assert {claire_traces["mt"], claire_traces["lambert"]} <= seen


def test_holder_sees_only_their_own_record(claire_traces, as_actor):
    holder = as_actor(f"Patient/{CLAIRE}")
    assert claire_traces["other_patient"] not in visible(holder, "AuditEvent")
    assert claire_traces["other_patient"] not in visible(holder, "AuditEvent?patient=Patient/pat-david-cohen")
    response = holder.get(f"AuditEvent/{claire_traces['other_patient']}")
    assert response.status_code in (403, 404)
    assert response.json()["resourceType"] == "OperationOutcome"


def test_holder_reads_a_trace_of_their_record_by_id(claire_traces, as_actor):
    response = as_actor(f"Patient/{CLAIRE}").get(f"AuditEvent/{claire_traces['lambert']}")
    assert response.status_code == 200
    assert response.json()["agent"][0]["who"]["reference"] == LAMBERT


# -- legal representatives -------------------------------------------------------------------------
def test_legal_representative_sees_the_minors_traces(seeded, as_actor):
    access = trace_of(seeded, as_actor("Practitioner/pra-camille-petit"), "Patient/pat-leo-martin")
    for parent in ("RelatedPerson/rp-leo-martin-mere", "RelatedPerson/rp-leo-martin-pere"):
        assert access in visible(as_actor(parent), "AuditEvent?patient=Patient/pat-leo-martin")


def test_parent_logged_in_as_a_patient_sees_only_her_own_record(seeded, as_actor):
    """Claire Martin is Léo's mother: as Patient/pat-claire-martin she acts for herself, not for him."""
    access = trace_of(seeded, as_actor("Practitioner/pra-camille-petit"), "Patient/pat-leo-martin")
    assert access not in visible(as_actor(f"Patient/{CLAIRE}"), "AuditEvent?patient=Patient/pat-leo-martin")


def test_guardian_sees_the_minors_traces(seeded, as_actor):
    access = trace_of(seeded, as_actor("Practitioner/pra-camille-petit"), "Patient/pat-emma-caron")
    assert access in visible(as_actor("RelatedPerson/rp-emma-caron-tutrice"), "AuditEvent?patient=Patient/pat-emma-caron")


@pytest.mark.parametrize("relative, patient_id", [
    ("RelatedPerson/rp-hugo-petitjean-mere", "pat-hugo-petitjean"),   # Hugo came of age
    ("RelatedPerson/rp-robert-vidal-fille", "pat-robert-vidal"),      # trusted person, not a representative
], ids=["representation-ended", "trusted-person"])
def test_relative_without_representation_sees_no_trace(seeded, as_actor, relative, patient_id):
    access = trace_of(seeded, as_actor(LEFEBVRE), f"Patient/{patient_id}")
    api = as_actor(relative)
    response = api.get(f"AuditEvent?patient=Patient/{patient_id}")
    assert response.status_code == 403 or access not in visible(api, f"AuditEvent?patient=Patient/{patient_id}")
    assert api.get(f"AuditEvent/{access}").status_code in (403, 404)


def test_parents_do_not_see_traces_of_the_minors_confidential_care(seeded, as_actor):
    """Inès Haddad's contraception documents are hidden from her parents, and so are the traces naming them."""
    mt = as_actor(LEFEBVRE)
    secret = trace_of(seeded, mt, "DocumentReference/doc-ines-haddad-cr-consultation-contraception-2026-10")
    plain = trace_of(seeded, mt, "Patient/pat-ines-haddad")
    query = "AuditEvent?patient=Patient/pat-ines-haddad"
    mother = visible(as_actor("RelatedPerson/rp-ines-haddad-mere"), query)
    assert plain in mother and secret not in mother
    assert {plain, secret} <= visible(as_actor("Patient/pat-ines-haddad"), query)


# -- professionals ---------------------------------------------------------------------------------
def test_medecin_traitant_sees_every_access_to_the_record(claire_traces, as_actor):
    seen = visible(as_actor(LEFEBVRE), f"AuditEvent?patient=Patient/{CLAIRE}")
    assert {claire_traces["mt"], claire_traces["lambert"]} <= seen
    assert claire_traces["other_patient"] not in visible(as_actor(LEFEBVRE), "AuditEvent")


def test_second_medecin_traitant_sees_the_record_traces(seeded, as_actor):
    access = trace_of(seeded, as_actor(LEFEBVRE), "Patient/pat-jean-pierre-muller")
    assert access in visible(as_actor("Practitioner/pra-helene-garnier"), "AuditEvent?patient=Patient/pat-jean-pierre-muller")


def test_professional_sees_their_own_actions_only(claire_traces, as_actor):
    lambert = as_actor(LAMBERT)
    seen = visible(lambert, f"AuditEvent?patient=Patient/{CLAIRE}")
    assert claire_traces["lambert"] in seen
    assert claire_traces["mt"] not in seen                   # the MT's access to the same patient
    assert lambert.get(f"AuditEvent/{claire_traces['mt']}").status_code in (403, 404)
    assert lambert.get(f"AuditEvent/{claire_traces['lambert']}").status_code == 200


def test_professional_sees_their_own_refused_attempts(seeded, as_actor):
    outsider = as_actor("Practitioner/pra-yann-le-gall")
    response, rid = send(outsider, "GET", f"Patient/{CLAIRE}")
    assert response.status_code == 403
    assert only_trace(seeded, rid)["_id"] in visible(outsider, "AuditEvent")


@pytest.mark.parametrize("sub, scope", [
    ("Organization/org-chu-lyon-confluence", "user/*.rs"),
    ("Device/tablette-accueil", "user/*.rs"),
    ("Organization/org-cpam-rhone", "patient/*.rs"),
], ids=["organization-user-scope", "device-user-scope", "organization-patient-scope"])
def test_organization_or_device_without_system_scope_is_403(claire_traces, as_actor, sub, scope):
    api = as_actor(sub, scope=scope)
    for path in (f"AuditEvent?patient=Patient/{CLAIRE}", f"AuditEvent/{claire_traces['mt']}"):
        response = api.get(path)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["issue"][0]["code"] == "forbidden"


def test_trusted_system_sees_every_trace(claire_traces, system):
    seen = visible(system, "AuditEvent?_count=100")
    assert set(claire_traces.values()) <= seen


# -- a document hidden from the holder -------------------------------------------------------------
@pytest.fixture
def morel_traces(seeded, as_actor) -> dict[str, str]:
    collin = as_actor(COLLIN)
    return {"hidden_doc": trace_of(seeded, collin, HIDDEN_FROM_MOREL),
            "record": trace_of(seeded, collin, f"Patient/{MOREL}")}


def test_trace_of_a_document_hidden_from_the_holder_is_hidden_from_the_holder(morel_traces, as_actor):
    holder = as_actor(f"Patient/{MOREL}")
    assert holder.get(HIDDEN_FROM_MOREL).status_code == 404          # the document is hidden …
    seen = visible(holder, f"AuditEvent?patient=Patient/{MOREL}")
    assert morel_traces["record"] in seen
    assert morel_traces["hidden_doc"] not in seen                       # … and so is the trace naming it
    assert morel_traces["hidden_doc"] not in visible(holder, "AuditEvent")
    assert holder.get(f"AuditEvent/{morel_traces['hidden_doc']}").status_code == 404
    # the id shows only in the holder's own request, as he was answered (issue 10: "not found", no patient)
    for entry in holder.get(f"AuditEvent?patient=Patient/{MOREL}").json().get("entry", []):
        if HIDDEN_FROM_MOREL.split("/")[1] in str(entry["resource"]):
            assert entry["resource"]["agent"][0]["who"]["reference"] == f"Patient/{MOREL}"
            assert not any(e.get("what", {}).get("reference") == f"Patient/{MOREL}" for e in entry["resource"]["entity"])


def test_hidden_trace_is_not_leaked_by_everything(morel_traces, as_actor):
    response = as_actor(f"Patient/{MOREL}").get(f"Patient/{MOREL}/$everything")
    assert response.status_code == 200
    ids = {e["resource"]["id"] for e in response.json()["entry"]}
    assert morel_traces["hidden_doc"] not in ids
    assert HIDDEN_FROM_MOREL.split("/")[1] not in response.text


def test_professionals_still_see_the_hidden_documents_trace(morel_traces, as_actor):
    assert morel_traces["hidden_doc"] in visible(as_actor(ROUSSEAU), f"AuditEvent?patient=Patient/{MOREL}")
    assert morel_traces["hidden_doc"] in visible(as_actor(COLLIN), "AuditEvent")


def test_trace_becomes_visible_when_the_document_is_revealed(morel_traces, seeded, as_actor):
    response, _ = send(as_actor(COLLIN), "POST", f"{HIDDEN_FROM_MOREL}/$reveal-to-patient",
                       {"resourceType": "Parameters"})
    assert response.status_code == 200
    holder = as_actor(f"Patient/{MOREL}")
    assert holder.get(HIDDEN_FROM_MOREL).status_code == 200
    assert morel_traces["hidden_doc"] in visible(holder, f"AuditEvent?patient=Patient/{MOREL}")
