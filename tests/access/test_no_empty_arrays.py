"""No answer of the server holds an empty array (FHIR ele-1: every element has a value or children), over a
tour of the seeded record: searches of every type, $everything, history, operations (issue 11, item 2)."""

from __future__ import annotations

from fhir_server.fhir_types import SUPPORTED_TYPES
from tests.interop.test_bundles import empty_arrays

HOLDER, GP = "Patient/pat-claire-martin", "Practitioner/pra-antoine-lefebvre"


def test_no_answer_of_a_seeded_tour_has_an_empty_array(seed):
    queries = [f"{t}?_count=5" for t in SUPPORTED_TYPES if t != "Binary"]
    queries += [f"{t}?_summary=count" for t in SUPPORTED_TYPES if t != "Binary"]
    queries += ["Patient/pat-claire-martin/$everything", "Patient/pat-claire-martin/_history",
                "DocumentReference?patient=Patient/pat-claire-martin&_include=DocumentReference:author",
                "Patient?family=nobody", "_history?_count=3", "?_id=pat-claire-martin", "metadata",
                "OperationDefinition", "SearchParameter", "CodeSystem/operation"]
    checked = 0
    for actor in (seed.system, seed(HOLDER), seed(GP)):
        for query in queries:
            response = actor.get(query)
            assert response.status_code in (200, 403), (query, response.text)
            assert empty_arrays(response.json()) == [], query
            checked += 1
    assert checked == 3 * len(queries)
