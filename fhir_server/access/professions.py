"""The professions of a professional, as `system|code`: every coding of the Practitioner's
qualifications and of their active PractitionerRoles (code and specialty), e.g. TRE_G15 `…|60` (infirmier).
The directory is maintained by trusted systems only, so the professional cannot choose their profession."""

from __future__ import annotations

from ..auth.actor import Actor
from ..storage.mongo import MongoStore


def professions_of(store: MongoStore, actor: Actor, roles: list[dict]) -> set[str]:
    """`roles`: the actor's active PractitionerRoles (relationships.active_roles)."""
    if actor.resource_type != "Practitioner":
        return set()
    concepts: list = []
    doc = store.read_doc("Practitioner", actor.id, index=False)
    if doc is not None and not doc.get("deleted"):
        concepts += [q.get("code") for q in doc["res"].get("qualification") or [] if isinstance(q, dict)]
    for role in roles:
        concepts += list(role.get("code") or []) + list(role.get("specialty") or [])
    return {f"{c['system']}|{c['code']}" for concept in concepts if isinstance(concept, dict)
            for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("system") and c.get("code")}
