"""Searching traces (issue 5, "Deliver" 4 and 5): `AuditEvent?patient=…&date=…&agent=…` through the search
engine with paging, and `purpose=bris_de_glace` to find emergency accesses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from ..stores import requires
from .traces import follow, only_trace, send

BONNET = "pat-gerard-bonnet"
LEFEBVRE = "Practitioner/pra-antoine-lefebvre"
ROUX = "Practitioner/pra-emilie-roux"
CHEVALIER = "Practitioner/pra-francois-chevalier"
TRE_R248 = "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/TRE-R248-ModeAcces"


def instant(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ids(pages: list[dict]) -> list[str]:
    return [e["resource"]["id"] for page in pages for e in page.get("entry", [])
            if e["resource"]["resourceType"] == "AuditEvent"]


@pytest.fixture
def bonnet_accesses(seeded, as_actor) -> dict:
    """Gérard Bonnet's record: 5 reads by his MT, 2 break-glass accesses, 1 centre 15 access, 1 by Moreau."""
    start = datetime.now(timezone.utc) - timedelta(seconds=1)
    made: dict[str, list[str]] = {"mt": [], "btg": [], "c15": [], "moreau": []}

    def access(key, api, path):
        response, rid = send(api, "GET", path)
        assert response.status_code == 200, response.text
        made[key].append(only_trace(seeded, rid)["_id"])

    mt = as_actor(LEFEBVRE)
    for path in ("Patient/pat-gerard-bonnet", "DocumentReference/doc-gerard-bonnet-synthese-2026-09",
                 "Patient/pat-gerard-bonnet/_history", "Observation/obs-gerard-bonnet-tension-2026-11-18",
                 "Patient/pat-gerard-bonnet"):
        access("mt", mt, path)
    btg = as_actor(ROUX, mode="bris_de_glace", reason="détresse respiratoire, patient inconscient")
    access("btg", btg, "Patient/pat-gerard-bonnet")
    access("btg", btg, "DocumentReference?patient=pat-gerard-bonnet")
    access("c15", as_actor(CHEVALIER, mode="centre_15"), "Patient/pat-gerard-bonnet")
    access("moreau", as_actor("Practitioner/pra-isabelle-moreau"), "Patient/pat-gerard-bonnet")
    made["start"] = start
    return made


@requires("elemmatch_subdocuments")
@pytest.mark.parametrize("reader", ["holder", "mt", "system"])
def test_patient_date_agent_search_pages_through_every_match(bonnet_accesses, seeded, as_actor, system, reader):
    api = {"holder": as_actor(f"Patient/{BONNET}"), "mt": as_actor(LEFEBVRE), "system": system}[reader]
    query = (f"AuditEvent?patient=Patient/{BONNET}&date=ge{instant(bonnet_accesses['start'])}"
             f"&agent={LEFEBVRE}&_count=2")
    first = api.get(query)
    assert first.status_code == 200, first.text
    pages = follow(api, first.json())
    assert all(len(p.get("entry", [])) <= 2 for p in pages)
    found = ids(pages)
    assert len(found) == len(set(found))                       # no trace twice across pages
    # the MT's own paging requests are traced in this chain too, and may show up on later pages
    own_searches = {d["_id"] for d in seeded.find("AuditEvent", {"res.subtype.code": "search-type"})}
    assert set(found) - own_searches == set(bonnet_accesses["mt"])
    assert len(pages) >= 3
    if "total" in pages[0]:
        assert pages[0]["total"] == 5


@requires("elemmatch_subdocuments")
def test_date_excludes_traces_outside_the_window(bonnet_accesses, system):
    before = instant(bonnet_accesses["start"])
    older = system.get(f"AuditEvent?patient=Patient/{BONNET}&date=lt{before}").json()
    assert ids([older]) == []
    later = instant(datetime.now(timezone.utc) + timedelta(hours=1))
    assert ids([system.get(f"AuditEvent?patient=Patient/{BONNET}&date=gt{later}").json()]) == []
    # and the window itself finds them: an empty answer above is not a store that answers nothing
    inside = system.get(f"AuditEvent?patient=Patient/{BONNET}&date=ge{before}&date=le{later}&_count=50").json()
    assert set(bonnet_accesses["mt"]) <= set(ids(follow(system, inside)))


def test_agent_limits_to_one_actor(bonnet_accesses, system):
    pages = follow(system, system.get(f"AuditEvent?patient=Patient/{BONNET}&agent={ROUX}&_count=1").json())
    assert set(ids(pages)) == set(bonnet_accesses["btg"])


@pytest.mark.parametrize("purpose", [
    "bris_de_glace",
    quote(f"{TRE_R248}|bris_de_glace", safe=""),
    quote("http://terminology.hl7.org/CodeSystem/v3-ActReason|BTG", safe=""),
], ids=["code", "TRE_R248-system|code", "v3-ActReason|BTG"])
def test_purpose_finds_emergency_accesses(bonnet_accesses, system, as_actor, purpose):
    for api in (system, as_actor(f"Patient/{BONNET}"), as_actor(LEFEBVRE)):
        response = api.get(f"AuditEvent?patient=Patient/{BONNET}&purpose={purpose}")
        assert response.status_code == 200, response.text
        assert set(ids([response.json()])) == set(bonnet_accesses["btg"])


def test_purpose_centre_15(bonnet_accesses, system):
    response = system.get(f"AuditEvent?patient=Patient/{BONNET}&purpose=centre_15")
    assert set(ids([response.json()])) == set(bonnet_accesses["c15"])


@requires("elemmatch_subdocuments")
def test_purpose_normal_excludes_emergency_accesses(bonnet_accesses, system):
    query = f"AuditEvent?patient=Patient/{BONNET}&purpose=normal&date=ge{instant(bonnet_accesses['start'])}&_count=50"
    found = set(ids(follow(system, system.get(query).json())))
    assert set(bonnet_accesses["mt"]) | set(bonnet_accesses["moreau"]) <= found
    assert not found & (set(bonnet_accesses["btg"]) | set(bonnet_accesses["c15"]))


def test_purpose_is_published_in_the_capability_statement(client):
    (rest,) = client.get("/fhir/metadata").json()["rest"]
    (audit,) = [r for r in rest["resource"] if r["type"] == "AuditEvent"]
    params = {p["name"]: p for p in audit["searchParam"]}
    assert {"patient", "date", "agent", "purpose"} <= set(params)
    assert params["purpose"]["type"] == "token"


def test_professional_searching_traces_sees_only_their_own_even_with_purpose(bonnet_accesses, as_actor):
    response = as_actor("Practitioner/pra-isabelle-moreau").get(f"AuditEvent?patient=Patient/{BONNET}")
    assert set(ids([response.json()])) == set(bonnet_accesses["moreau"])
    response = as_actor("Practitioner/pra-isabelle-moreau").get(f"AuditEvent?patient=Patient/{BONNET}&purpose=bris_de_glace")
    assert ids([response.json()]) == []
