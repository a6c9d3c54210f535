"""The access matrix by profession (issue 12, item 1): what each profession reads and feeds, on every path.

Cast (seed_data/README.md, "The access matrix by profession"): Robert Vidal's record holds one document of each
class 10, 42, 43, 44, 45 and 95. His Ehpad care team lists Dr Masson (physician), nurse Laure Gauthier and care
assistant Martine Roche; pharmacist Vincent Blanc and physiotherapist Lucas Perret are authorised by him.
EXPECTED is the default matrix (definitions/access-matrix.json, decisions.ACCESS_MATRIX_*)."""

from __future__ import annotations

import json

import pytest

from fhir_server.access.matrix import MatrixError, load_matrix
from fhir_server.access.policy import Policy
from fhir_server.access.scope import search_scope
from fhir_server.auth.actor import Actor
from fhir_server.config import Settings
from fhir_server.main import create_app
from fhir_server.storage.mongo import now_ms
from tests.access.builders import (Actors, assert_forbidden, assert_not_found, days, document, ids_of, ok,
                                   search_ids)

ROBERT = "pat-robert-vidal"
DOC = {"10": "doc-robert-vidal-bilan-soins-infirmiers-2026-10", "42": "doc-robert-vidal-ordonnance-2026-11",
       "43": "doc-robert-vidal-dispensation-2026-11", "44": "doc-robert-vidal-plan-soins-2026-01",
       "45": "doc-robert-vidal-administration-2026-11", "95": "doc-robert-vidal-admission-ehpad-2024-03"}
PHYSICIAN, PHARMACIST = "Practitioner/pra-bernard-masson", "Practitioner/pra-vincent-blanc"
NURSE, PHYSIO = "Practitioner/pra-laure-gauthier", "Practitioner/pra-lucas-perret"
CARE_ASSISTANT, MT = "Practitioner/pra-martine-roche", "Practitioner/pra-antoine-lefebvre"
# actor -> classes of Robert Vidal's documents they see
EXPECTED = {
    PHYSICIAN: {"10", "42", "43", "44", "45", "95"},
    MT: {"10", "42", "43", "44", "45", "95"},
    PHARMACIST: {"42", "43", "44", "45"},
    NURSE: {"10", "42", "43", "44", "45"},
    PHYSIO: {"42", "44"},
    CARE_ASSISTANT: {"44", "45"},
}
A03 = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"


def _docs(classes) -> set[str]:
    return {DOC[c] for c in classes}


@pytest.mark.parametrize("actor", EXPECTED, ids=lambda a: a.split("-", 1)[1])
def test_search_read_and_everything_follow_the_profession(seed, actor):
    api, visible = seed(actor), _docs(EXPECTED[actor])
    found, total = search_ids(api, f"DocumentReference?patient={ROBERT}&_count=2")
    assert found == visible and total == len(visible)        # paging and totals, inside the query
    assert ok(api.get(f"DocumentReference?patient={ROBERT}&_summary=count"))["total"] == len(visible)
    for cls, id in DOC.items():
        if cls in EXPECTED[actor]:
            assert ok(api.get(f"DocumentReference/{id}"))["id"] == id
            assert ok(api.get(f"DocumentReference/{id}/_history"))["entry"]
        else:
            assert_not_found(api.get(f"DocumentReference/{id}"))
            assert_not_found(api.get(f"DocumentReference/{id}/_history/1"))
            assert_not_found(api.get(f"DocumentReference/{id}/_history"))
            assert_not_found(api.get(f"Binary/bin-{id[4:]}"))
    assert ids_of(ok(api.get(f"Patient/{ROBERT}/$everything")), "DocumentReference") == visible
    revinclude = ok(api.get(f"Patient?_id={ROBERT}&_revinclude=DocumentReference:subject"))
    assert ids_of(revinclude, "DocumentReference") == visible
    by_class = search_ids(api, f"DocumentReference?patient={ROBERT}&category={A03}|95")
    assert by_class == ((_docs({"95"}), 1) if "95" in EXPECTED[actor] else (set(), 0))


def test_the_matrix_is_compiled_into_the_search_filter(seed):
    """The physiotherapist's filter carries the matrix clause: not a document, a readable class or type, or
    their own document; the physician's has none."""
    store = seed.app.state.store
    physio = Policy(store, Actor(PHYSIO), now_ms(), 18)
    compiled = search_scope(physio, "DocumentReference", [ROBERT])
    matrix_clause = {"$or": [{"_acl.codes": {"$exists": False}},
                             {"_acl.codes": {"$in": sorted(f"{A03}|{c}" for c in ("11", "31", "42", "44", "90"))}},
                             {"_acl.authors": PHYSIO}]}
    assert compiled["$and"][0] == {"_acl.patients": {"$in": [ROBERT]}}
    assert matrix_clause in compiled["$and"][1]["$and"]
    assert store.count("DocumentReference", compiled) == 2
    physician = search_scope(Policy(store, Actor(PHYSICIAN), now_ms(), 18), "DocumentReference", [ROBERT])
    assert "_acl.codes" not in json.dumps(physician)


WRITES = [  # actor, a class they feed, a class they do not
    (PHYSICIAN, "95", None), (PHARMACIST, "43", "10"), (NURSE, "45", "52"), (PHYSIO, "10", "42"),
    (CARE_ASSISTANT, "44", "10")]


def _new(cls: str, author: str) -> dict:
    doc = document("ignored", ROBERT, (author,), date=days(0))
    doc.pop("id")
    doc["category"] = [{"coding": [{"system": A03, "code": cls}]}]
    return doc


@pytest.mark.parametrize("actor,allowed,refused", WRITES, ids=lambda a: str(a).split("-", 1)[-1])
def test_writes_follow_the_profession(fresh_seed, actor, allowed, refused):
    api = fresh_seed(actor)
    created = ok(api.post("DocumentReference", _new(allowed, actor)), 201)
    stored = ok(fresh_seed.system.get(f"DocumentReference/{created['id']}"))
    assert stored["category"][0]["coding"][0]["code"] == allowed
    if refused:
        before = search_ids(fresh_seed.system, f"DocumentReference?patient={ROBERT}")[1]
        assert_forbidden(api.post("DocumentReference", _new(refused, actor)), "access matrix")
        assert search_ids(fresh_seed.system, f"DocumentReference?patient={ROBERT}")[1] == before


def test_a_professional_reads_what_they_wrote_even_outside_their_profession(fresh_seed):
    """The physiotherapist feeds a report (class 10) he may not read in general: his own stays visible to him,
    the pharmacist (who reads no class 10) does not see it, the médecin traitant does."""
    physio = fresh_seed(PHYSIO)
    bilan = ok(physio.post("DocumentReference", _new("10", PHYSIO)), 201)["id"]
    assert ok(physio.get(f"DocumentReference/{bilan}"))["id"] == bilan
    assert bilan in search_ids(physio, f"DocumentReference?patient={ROBERT}")[0]
    assert_not_found(fresh_seed(PHARMACIST).get(f"DocumentReference/{bilan}"))
    assert ok(fresh_seed(MT).get(f"DocumentReference/{bilan}"))["id"] == bilan


BONNET = "pat-gerard-bonnet"     # no objection to emergency access; a summary (11), two reports (10), one masked
REASON = {"mode": "bris_de_glace", "reason": "chute, patient inconscient"}


def test_emergency_modes_follow_the_same_matrix(seed):
    physio = search_ids(seed(PHYSIO, **REASON), f"DocumentReference?patient={BONNET}")
    assert physio == ({"doc-gerard-bonnet-synthese-2026-09"}, 1)
    nurse = search_ids(seed(NURSE, **REASON), f"DocumentReference?patient={BONNET}")
    assert nurse == ({"doc-gerard-bonnet-synthese-2026-09", "doc-gerard-bonnet-cr-consultation-cardiologie-2026-06"}, 2)
    assert_not_found(seed(PHYSIO, **REASON).get("DocumentReference/doc-gerard-bonnet-cr-consultation-cardiologie-2026-06"))
    # a search naming no patient (emergency scope) applies it too
    unnamed = search_ids(seed(PHYSIO, **REASON), f"DocumentReference?subject.identifier=x|y")
    assert unnamed == (set(), 0)
    c15 = search_ids(seed(CARE_ASSISTANT, mode="centre_15"), f"DocumentReference?patient={BONNET}")
    assert c15 == (set(), 0)


def _matrix_file(tmp_path, change) -> str:
    from importlib import resources
    data = json.loads(resources.files("fhir_server.definitions").joinpath("access-matrix.json").read_text())
    change(data)
    path = tmp_path / "matrix.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_the_operator_replaces_the_matrix(tmp_path):
    from fhir_server.seeding import load_seed
    from fastapi.testclient import TestClient
    from tests.conftest import TEST_SECRET

    def widen(data):
        data["profiles"]["kinesitherapeute"]["read"].append("class:43")
        data["version"] = "operator-1"
    settings = Settings(db="test_matrix_file", jwt_secret=TEST_SECRET, base_url="http://testserver/fhir",
                        dev_secret_file=tmp_path / "s", access_matrix_file=_matrix_file(tmp_path, widen))
    app = create_app(settings)
    load_seed(app.state.store, settings)
    world = Actors(app, TestClient(app))
    assert search_ids(world(PHYSIO), f"DocumentReference?patient={ROBERT}")[0] == _docs({"42", "43", "44"})
    refused = world(PHYSIO).post("DocumentReference", _new("42", PHYSIO))
    assert_forbidden(refused, "operator-1", "kinesitherapeute")


def test_a_malformed_matrix_stops_the_server_at_start(tmp_path):
    def unknown_profile(data):
        data["professions"]["g15:70"] = "nobody"
    for path in (_matrix_file(tmp_path, unknown_profile), str(tmp_path / "missing.json")):
        with pytest.raises(MatrixError):
            load_matrix(path)
        with pytest.raises(MatrixError):
            create_app(Settings(db="x", jwt_secret="k" * 40, access_matrix_file=path))


def test_unqualified_and_other_professions(seed):
    """A Practitioner whose directory entry names no profession keeps today's rights (decisions.py); a profession
    the matrix does not list gets the 'autre-profession' profile."""
    matrix = load_matrix()
    assert matrix.rights(set()).read is None
    other = matrix.rights({"https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante|80"})
    assert other.profiles == ("autre-profession",) and other.write == frozenset()
    both = matrix.rights({"https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante|70",
                          "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante|21"})
    assert both.profiles == ("kinesitherapeute", "pharmacien") and f"{A03}|43" in both.read
