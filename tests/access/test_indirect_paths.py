"""The leaks a direct read does not show: chained search, `_has`, `_include` through another resource's
reference (relatesTo, List.entry.item, Provenance.target), Binary, sorting and type-level history. A hidden
document must not appear, and must not make anything else appear or disappear."""

from __future__ import annotations

import base64

import pytest

from fhir_server.access.decisions import VISIBILITY_SYSTEM
from tests.stores import requires
from tests.access.builders import (INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX, MASQUE_PS, assert_forbidden,
                                   birth_date, care_team, days, document, ids_of, ok, patient, practitioner, put,
                                   related_person, search_ids)

P = "pat-ind"
MASKED, HIDDEN, SECRET, PLAIN = "doc-ind-masked", "doc-ind-hidden", "doc-ind-secret", "doc-ind-plain"
AUTHOR, TEAM = "Practitioner/pra-author", "Practitioner/pra-team"
HOLDER, MOTHER = f"Patient/{P}", "RelatedPerson/rp-ind"
# who must not see which document
BLIND = [(TEAM, MASKED), (HOLDER, HIDDEN), (MOTHER, HIDDEN), (MOTHER, SECRET)]


@pytest.fixture(scope="module")
def world(module_actors):
    s = module_actors.system
    for pra in ("pra-author", "pra-team"):
        put(s, practitioner(pra))
    put(s, patient(P, birth=birth_date(16)))
    put(s, related_person("rp-ind", P))
    put(s, care_team("ct-ind", P, (TEAM, AUTHOR)))
    put(s, document(MASKED, P, (AUTHOR,), labels=(MASQUE_PS,), description="tabacologie"))
    put(s, document(HIDDEN, P, (AUTHOR,), labels=(INVISIBLE_PATIENT,), date=days(-1), description="annonce"))
    put(s, document(SECRET, P, (AUTHOR,), labels=(INVISIBLE_REPRESENTANTS_LEGAUX,), description="contraception"))
    plain = document(PLAIN, P, (AUTHOR,), description="synthese")
    plain["relatesTo"] = [{"code": "appends", "target": {"reference": f"DocumentReference/{d}"}}
                          for d in (MASKED, HIDDEN, SECRET)]
    put(s, plain)
    put(s, {"resourceType": "List", "id": "list-ind", "status": "current", "mode": "working",
            "subject": {"reference": f"Patient/{P}"},
            "entry": [{"item": {"reference": f"DocumentReference/{d}"}} for d in (PLAIN, MASKED, HIDDEN, SECRET)]})
    put(s, {"resourceType": "Provenance", "id": "prov-ind", "recorded": days(-1),
            "target": [{"reference": f"DocumentReference/{d}"} for d in (MASKED, HIDDEN, SECRET)]
            + [{"reference": f"Patient/{P}"}],
            "agent": [{"who": {"reference": AUTHOR}}]})
    for d in (MASKED, HIDDEN, SECRET, PLAIN):
        put(s, {"resourceType": "Binary", "id": f"bin-{d}", "contentType": "text/plain",
                "securityContext": {"reference": f"DocumentReference/{d}"},
                "data": base64.b64encode(b"Document fictif").decode()})
    return module_actors


@pytest.mark.parametrize("who,doc", BLIND)
def test_include_through_relates_to_does_not_bring_a_hidden_document(world, who, doc):
    bundle = ok(world(who).get(f"DocumentReference?_id={PLAIN}&_include=DocumentReference:relatesto"))
    assert PLAIN in ids_of(bundle) and doc not in ids_of(bundle)


@pytest.mark.parametrize("who,doc", BLIND)
def test_include_through_a_list_does_not_bring_a_hidden_document(world, who, doc):
    """Issue 10 (class 6): a List naming a document hidden from the reader is hidden with it (it would tell
    the document exists); the reader finds neither."""
    bundle = ok(world(who).get(f"List?subject=Patient/{P}&_include=List:item"))
    assert "list-ind" not in ids_of(bundle) and doc not in ids_of(bundle)
    assert ok(world(who).get(f"List?item=DocumentReference/{doc}&_summary=count"))["total"] == 0


@pytest.mark.parametrize("who,doc", BLIND)
def test_revinclude_of_provenance_and_lists_does_not_bring_a_hidden_document(world, who, doc):
    bundle = ok(world(who).get(f"DocumentReference?patient={P}&_revinclude=List:item&_revinclude=Provenance:target"))
    assert doc not in ids_of(bundle, "DocumentReference")


@pytest.mark.parametrize("who,doc", BLIND)
def test_has_does_not_reveal_a_hidden_document(world, who, doc):
    """`Patient?_has:DocumentReference:subject:_id=<hidden>` must not answer "yes, this patient has it"."""
    api = world(who)
    assert search_ids(api, f"Patient?_has:DocumentReference:subject:_id={doc}") == (set(), 0)
    label = {MASKED: MASQUE_PS, HIDDEN: INVISIBLE_PATIENT, SECRET: INVISIBLE_REPRESENTANTS_LEGAUX}[doc]
    assert search_ids(api, f"Patient?_has:DocumentReference:subject:security-label={VISIBILITY_SYSTEM}|{label}") \
        == (set(), 0)
    # the same query for a visible document does find the patient
    assert search_ids(api, f"Patient?_has:DocumentReference:subject:_id={PLAIN}")[0] == {P}


@pytest.mark.parametrize("who,doc", BLIND)
def test_chained_search_from_a_visible_document_does_not_test_a_hidden_one(world, who, doc):
    """`DocumentReference?relatesto:DocumentReference.description=…` must not confirm a hidden document's content."""
    description = {MASKED: "tabacologie", HIDDEN: "annonce", SECRET: "contraception"}[doc]
    api = world(who)
    r = api.get(f"DocumentReference?relatesto:DocumentReference.description={description}")
    if r.status_code == 400:       # the parameter cannot be chained: nothing to leak
        return
    assert ids_of(ok(r)) == set(), who


@pytest.mark.parametrize("who,doc", BLIND)
def test_binary_of_a_hidden_document_is_404(world, who, doc):
    api = world(who)
    assert api.get(f"Binary/bin-{doc}").status_code == 404
    assert api.get(f"Binary/bin-{PLAIN}").status_code == 200


@pytest.mark.parametrize("who,doc", BLIND)
def test_text_search_does_not_match_a_hidden_document(world, who, doc):
    description = {MASKED: "tabacologie", HIDDEN: "annonce", SECRET: "contraception"}[doc]
    assert search_ids(world(who), f"DocumentReference?description={description}") == (set(), 0)


@pytest.mark.parametrize("who", [TEAM, HOLDER, MOTHER])
def test_type_and_system_history_are_for_trusted_systems(world, who):
    assert_forbidden(world(who).get("DocumentReference/_history"))
    assert_forbidden(world(who).get("_history"))


@requires("elemmatch_subdocuments")
@pytest.mark.parametrize("who,doc", BLIND)
def test_system_search_does_not_list_a_hidden_document(world, who, doc):
    r = world(who).get("?_type=DocumentReference")
    assert doc not in ids_of(ok(r))
    everything = world(who).get("?_lastUpdated=gt2000-01-01&_count=1000")   # every type, Binary included
    assert doc not in ids_of(ok(everything))
    assert ids_of(everything.json(), "Binary") == set()
    # what the actor may see is there: the hidden document is missing for the policy, not for an empty answer
    assert ids_of(r.json(), "DocumentReference") <= ids_of(everything.json(), "DocumentReference")
    assert ids_of(everything.json(), "Patient")
