"""What every parameter type module shares: the contexts it receives and small helpers.

A type module (string.py, token.py …) holds both halves of one parameter type, so they cannot drift:
- `extract(nodes, ctx) -> dict | None`: the `_idx.<code>` subdocument written with the resource
  (always a dict with the type's arrays and `s`, a scalar sort key);
- `compile(field, modifier, values, ctx) -> dict`: the Mongo filter for one parameter occurrence
  (the values are the comma-separated alternatives, OR-ed);
- `index_keys(field) -> list[list[(key, direction)]]`: the indexes that serve those filters;
- `MODIFIERS`, `PRESENCE` (the subfield `:missing` tests), `SORT_TYPE`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fhir_server.errors import BadRequest


@dataclass(frozen=True)
class ExtractContext:
    code: str
    base_url: str | None = None
    implicit_system: str | None = None     # the code system of a `code` element with a required binding
    components: tuple = ()                 # composite: ((kind, CompiledExpression), ...)


@dataclass
class CompileContext:
    resource_type: str
    code: str
    base_url: str | None = None
    targets: tuple[str, ...] = ()
    now: datetime | None = None
    components: tuple = ()                 # composite: (kind, ...) per component
    known_types: frozenset = frozenset()   # every R4 resource type name (to reject `Foo/1`)
    warnings: list = field(default_factory=list)


def any_of(clauses: list[dict]) -> dict:
    """OR of clauses, without a needless `$or` around a single one."""
    unique = []
    for c in clauses:
        if c not in unique:
            unique.append(c)
    if len(unique) == 1:
        return unique[0]
    keys = {k for c in unique for k in c}
    if len(keys) == 1 and all(len(c) == 1 and isinstance(next(iter(c.values())), str) for c in unique):
        key = keys.pop()
        return {key: {"$in": [c[key] for c in unique]}}       # equalities on one field: one index scan
    return {"$or": unique}


def all_of(clauses: list[dict]) -> dict:
    clauses = [c for c in clauses if c]
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


_REGEX_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")


def regex_escape(text: str) -> str:
    """Escape only regex metacharacters, so MongoDB still sees `^prefix` as a plain index range."""
    return _REGEX_SPECIAL.sub(r"\\\1", text)


def prefix_regex(text: str) -> dict:
    return {"$regex": "^" + regex_escape(text)}


def bad_value(code: str, value: Any, why: str) -> BadRequest:
    return BadRequest(f"Invalid value '{value}' for search parameter '{code}': {why}", expression=code)


def unsupported_modifier(code: str, modifier: str) -> BadRequest:
    return BadRequest(f"Modifier ':{modifier}' is not supported on search parameter '{code}'", expression=code,
                      code="not-supported")
