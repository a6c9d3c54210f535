"""Rule 9 as a story: an emergency physician breaks the glass on Gérard Bonnet's record (reason mandatory), does
not see the document he masked, the holder and his GP are told and find the access in the traces; Michel Fournier
objected to break-glass (refused, but centre_15 works); Jacqueline Perrin objected to centre_15; a patient
withdraws his objection and the emergency access works again."""

from __future__ import annotations

from tests.access.builders import assert_forbidden, assert_not_found, ids_of, ok, params, search_ids

ROUX, CHEVALIER = "Practitioner/pra-emilie-roux", "Practitioner/pra-francois-chevalier"
BONNET, MASKED = "pat-gerard-bonnet", "doc-gerard-bonnet-cr-tabacologie-2026-05"
MT = "Practitioner/pra-antoine-lefebvre"
REASON = "patient inconscient, admis aux urgences du CHU"


def _server_messages(api, pid: str, recipient: str) -> list[dict]:
    r = api.get(f"Communication?subject=Patient/{pid}&_count=100")
    if r.status_code == 403:       # a search naming a record closed to the actor is refused like a read
        return []
    bundle = ok(r, 200)
    return [e["resource"] for e in bundle.get("entry") or []
            if e["resource"].get("sender", {}).get("reference") == "Device/dmp-fhir-server"
            and recipient in {r["reference"] for r in e["resource"].get("recipient") or []}]


def test_break_glass_on_gerard_bonnet(fresh_seed):
    world = fresh_seed
    # normal mode: no authorisation
    assert_forbidden(world(ROUX).get(f"Patient/{BONNET}"), "authoris")
    # break-glass without a reason: refused (the token service will not even mint it)
    no_reason = world.raw({"sub": ROUX, "scope": "user/*.cruds", "purpose_of_use": "bris_de_glace"})
    assert_forbidden(no_reason.get(f"Patient/{BONNET}"), "reason")
    assert _server_messages(world.system, BONNET, f"Patient/{BONNET}") == []

    # with a reason: the record, but not the masked document
    emergency = world(ROUX, mode="bris_de_glace", reason=REASON, organization="Organization/org-chu-lyon-confluence")
    assert ok(emergency.get(f"Patient/{BONNET}"), 200)
    found, total = search_ids(emergency, f"DocumentReference?patient={BONNET}")
    assert "doc-gerard-bonnet-synthese-2026-09" in found and MASKED not in found and total == len(found)
    assert_not_found(emergency.get(f"DocumentReference/{MASKED}"))
    assert MASKED not in ids_of(ok(emergency.get(f"Patient/{BONNET}/$everything")))

    # the holder and the médecin traitant are told, once, with mode, actor and reason
    for who in (f"Patient/{BONNET}", MT):
        messages = _server_messages(world(who), BONNET, who)
        assert len(messages) == 1, who
        text = messages[0]["payload"][0]["contentString"]
        assert "bris_de_glace" in text and "pra-emilie-roux" in text and REASON in text
    # ... and the holder finds the access in his traces
    traces = ok(world(f"Patient/{BONNET}").get(f"AuditEvent?patient=Patient/{BONNET}&purpose=bris_de_glace"))
    assert traces.get("total", len(traces.get("entry") or [])) >= 1
    # the notification is not readable by another professional of the record
    assert _server_messages(world("Practitioner/pra-yann-le-gall"), BONNET, MT) == []

    # emergency access is read-only
    assert_forbidden(emergency.delete("DocumentReference/doc-gerard-bonnet-synthese-2026-09"))


def test_objections_to_each_emergency_mode(fresh_seed):
    world = fresh_seed
    bdg = world(ROUX, mode="bris_de_glace", reason=REASON)
    c15 = world(CHEVALIER, mode="centre_15")
    # Michel Fournier objected to break-glass only
    assert_forbidden(bdg.get("Patient/pat-michel-fournier"), "bris_de_glace")
    assert search_ids(bdg, "DocumentReference?patient=pat-michel-fournier") == (set(), 0)
    assert ok(c15.get("Patient/pat-michel-fournier"), 200)
    # Jacqueline Perrin objected to centre_15 only
    assert_forbidden(c15.get("Patient/pat-jacqueline-perrin"), "centre_15")
    assert ok(bdg.get("Patient/pat-jacqueline-perrin"), 200)
    # no message for a refused access
    assert _server_messages(world.system, "pat-jacqueline-perrin", "Patient/pat-jacqueline-perrin") == [
        m for m in _server_messages(world.system, "pat-jacqueline-perrin", "Patient/pat-jacqueline-perrin")
        if "bris_de_glace" in m["payload"][0]["contentString"]]

    # Michel Fournier withdraws his objection: break-glass works again; he objects again: refused again
    holder = world("Patient/pat-michel-fournier")
    ok(holder.post("Patient/pat-michel-fournier/$oppose-emergency-access", params(mode="bris_de_glace", withdraw=True)),
       200)
    assert ok(bdg.get("Patient/pat-michel-fournier"), 200)
    ok(holder.post("Patient/pat-michel-fournier/$oppose-emergency-access", params(mode="bris_de_glace")), 200, 201)
    assert_forbidden(bdg.get("Patient/pat-michel-fournier"))
