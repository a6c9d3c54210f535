"""`_include` and `_revinclude` (https://hl7.org/fhir/R4/search.html#include), with `:iterate`.

Round one applies every include to the matches; later rounds apply only the `:iterate` ones to what the
previous round added (so `_revinclude:iterate` also reaches resources brought in by `_include`). A resource
appears once, matches first. Every query carries `deleted: False` and the caller's access filter for
the included type, so an include never reveals what a search would hide. At most MAX_INCLUDED resources
are added; when the cap cuts, the caller reports it in an OperationOutcome entry.
"""

from __future__ import annotations

from typing import Callable

from fhir_server.fhir_types import SUPPORTED_TYPES
from fhir_server.search.parameters import Include
from fhir_server.search.registry import registry

MAX_INCLUDED = 1000
MAX_ROUNDS = 5
CHUNK = 500

Row = tuple[str, dict]                       # (resource type, stored document)
Scope = Callable[[str, dict], dict]          # (type, filter) -> filter ANDed with deleted: False and access


def _refs(doc: dict, code: str) -> list[str]:
    return [r for r in doc.get("_idx", {}).get(code, {}).get("r", []) if "/" in r and "://" not in r
            and not r.startswith(" ")]


def _forward(store, scope: Scope, rows: list[Row], inc: Include, seen: set, budget: int) -> list[Row]:
    wanted: dict[str, set[str]] = {}
    reg = registry()
    codes = ([p.code for p in reg.params_for(inc.source).values() if p.type == "reference"]
             if inc.code == "*" else [inc.code])
    for rtype, doc in rows:
        if rtype != inc.source:
            continue
        for code in codes:
            for ref in _refs(doc, code):
                target, _, rid = ref.partition("/")
                if target in SUPPORTED_TYPES and (inc.target in (None, target)) and (target, rid) not in seen:
                    wanted.setdefault(target, set()).add(rid)
    found: list[Row] = []
    for target in sorted(wanted):
        ids = sorted(wanted[target])
        for i in range(0, len(ids), CHUNK):
            docs = store.find(target, scope(target, {"_id": {"$in": ids[i:i + CHUNK]}}), sort=[("_id", 1)],
                              limit=budget - len(found) + 1)
            found += [(target, d) for d in docs]
            if len(found) > budget:
                return found
    return found


def _reverse(store, scope: Scope, rows: list[Row], inc: Include, seen: set, budget: int) -> list[Row]:
    param = registry().get(inc.source, inc.code)
    refs = sorted({f"{rtype}/{doc['_id']}" for rtype, doc in rows
                   if inc.target in (None, rtype) and (not param.targets or rtype in param.targets)})
    already = sum(1 for rtype, _ in seen if rtype == inc.source)     # found again but not added
    found: list[Row] = []
    for i in range(0, len(refs), CHUNK):
        docs = store.find(inc.source, scope(inc.source, {f"_idx.{inc.code}.r": {"$in": refs[i:i + CHUNK]}}),
                          sort=[("_id", 1)], limit=budget - len(found) + already + 1)
        found += [(inc.source, d) for d in docs if (inc.source, d["_id"]) not in seen]
        if len(found) > budget:
            return found
    return found


def resolve_includes(store, scope: Scope, matches: list[Row], includes: list[Include]) -> tuple[list[Row], bool]:
    """The resources the includes add to `matches` (no duplicates) and whether the cap cut the list."""
    seen = {(rtype, doc["_id"]) for rtype, doc in matches}
    added: list[Row] = []
    frontier, active = matches, includes
    for _ in range(MAX_ROUNDS):
        if not frontier or not active:
            break
        new: list[Row] = []
        for inc in active:
            budget = MAX_INCLUDED - len(added) - len(new)
            step = (_reverse if inc.reverse else _forward)(store, scope, frontier, inc, seen, budget)
            for rtype, doc in step:
                if (rtype, doc["_id"]) not in seen:
                    seen.add((rtype, doc["_id"]))
                    new.append((rtype, doc))
            if len(added) + len(new) > MAX_INCLUDED:
                return added + new[:MAX_INCLUDED - len(added)], True
        added += new
        frontier, active = new, [i for i in includes if i.iterate]
    return added, False
