"""ENS messaging as a story: Dr Fontaine sends Amélie Dubois her results; Amélie replies within the conversation;
she cannot start a new conversation; a professional without access to her record reads nothing of it."""

from __future__ import annotations

from tests.access.builders import assert_not_found, assert_forbidden, communication, ok, search_ids

AMELIE = "pat-amelie-dubois"


def test_amelie_dubois_replies_but_does_not_start(fresh_seed):
    world = fresh_seed
    holder = world(f"Patient/{AMELIE}")
    found, _ = search_ids(holder, f"Communication?subject=Patient/{AMELIE}")
    assert {"com-amelie-dubois-2026-10-resultats", "com-amelie-dubois-2026-10-reponse"} <= found

    reply = {k: v for k, v in communication("x", AMELIE, f"Patient/{AMELIE}",
                                            in_response_to="Communication/com-amelie-dubois-2026-10-resultats").items()
             if k != "id"}
    created = ok(holder.post("Communication", reply), 201)
    fresh = {k: v for k, v in communication("x", AMELIE, f"Patient/{AMELIE}").items() if k != "id"}
    assert_forbidden(holder.post("Communication", fresh), "inResponseTo")

    assert created["id"] in search_ids(world.system, f"Communication?subject=Patient/{AMELIE}")[0]
    outsider = world("Practitioner/pra-yann-le-gall")
    assert search_ids(outsider, f"Communication?subject=Patient/{AMELIE}") == (set(), 0)
    assert_not_found(outsider.get("Communication/com-amelie-dubois-2026-10-resultats"))
