"""The one declaration of the MongoDB indexes of a resource type's collection, derived from the registry.

Each parameter type declares the index that serves its filters (string: the folded values and word suffixes;
token/reference/uri: the value array; date: (lo, hi) and hi; number/quantity: the values; composite: the
first component). Sort keys (`_idx.<code>.s`) are indexed, with `_id`, for `_lastUpdated`, the date and the
string parameters, the sorts a client pages through; sorts on tokens, references, numbers and quantities run
on what the filter's index found (in memory, bounded by the page's limit).
MongoDB allows 64 indexes per collection; the test suite checks every type stays under MAX_INDEXES.
"""

from __future__ import annotations

from fhir_server.search.registry import registry
from fhir_server.search.types import TYPES

MAX_INDEXES = 60
SORTED_KINDS = ("date", "string")


def index_declarations(resource_type: str) -> list[list[tuple[str, int]]]:
    """The key lists to create on `resource_type`'s collection (the `_id` index exists already)."""
    reg = registry()
    out: list[list[tuple[str, int]]] = []
    for param in reg.params_for(resource_type).values():
        if param.code == "_id":
            continue
        kind = TYPES[param.type]
        if param.type == "composite":
            keys = kind.index_keys(param.field, reg.component_kinds(param)[0])
        else:
            keys = kind.index_keys(param.field)
        if param.type in SORTED_KINDS:
            keys = keys + [[(f"{param.field}.s", 1), ("_id", 1)]]
        out += [k for k in keys if k not in out]
    return out


def _usable(cond) -> bool:
    if not isinstance(cond, dict):
        return True
    if "$regex" in cond:
        return cond["$regex"].startswith("^") and "$options" not in cond
    return True


def served(filter: dict, keys: set[str], prefix: str = "") -> bool:
    """Would MongoDB answer `filter` from an index? A conjunction needs one served conjunct;
    a disjunction needs every branch served."""
    for key, cond in filter.items():
        if key == "$and" and any(served(c, keys, prefix) for c in cond):
            return True
        if key == "$or" and all(served(c, keys, prefix) for c in cond):
            return True
        if key.startswith("$") or key == "deleted":
            continue
        path = prefix + key
        if isinstance(cond, dict) and "$elemMatch" in cond:
            inner = cond["$elemMatch"]
            if all(k.startswith("$") and k not in ("$and", "$or") for k in inner):
                if path in keys:
                    return True
            elif served(inner, keys, path + "."):
                return True
        elif path in keys and _usable(cond):
            return True
    return False
