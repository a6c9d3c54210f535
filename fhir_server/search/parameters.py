"""Step 1 of a search: the query's (name, value) pairs → clauses and result parameters. Pure.

A clause is one occurrence of a search parameter: repeated parameters AND, comma-separated values OR
(a `\\,` is a literal comma). Names read `code[:modifier][.chain]` or `_has:Type:reference:code`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fhir_server.errors import BadRequest, Issue
from fhir_server.limits import whole_number

IGNORED_PARAMS = frozenset({"_format", "_pretty"})
SINGLE_PARAMS = ("_count", "_sort", "_total", "_summary", "_page", "_type", "_elements")
SUMMARY_MODES = ("true", "false", "text", "data", "count")
TOTAL_MODES = ("none", "estimate", "accurate")
MAX_COUNT = 1000
DEFAULT_COUNT = 20


@dataclass(frozen=True)
class Clause:
    name: str                   # as written, for messages
    code: str
    modifier: str | None
    values: tuple[str, ...]
    chain: str | None = None    # `patient.identifier` → "identifier"; `subject:Patient.name` → "name"
    has: tuple[str, str] | None = None    # `_has:Observation:patient:code` → ("Observation", "patient")


@dataclass(frozen=True)
class Include:
    source: str
    code: str
    target: str | None
    iterate: bool
    reverse: bool

    def __str__(self) -> str:
        name = ("_revinclude" if self.reverse else "_include") + (":iterate" if self.iterate else "")
        return f"{name}={self.source}:{self.code}" + (f":{self.target}" if self.target else "")


@dataclass
class ParsedQuery:
    clauses: list[Clause] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    sort: list[tuple[str, int]] = field(default_factory=list)     # (code, direction)
    total: str | None = None
    summary: str | None = None
    elements: list[str] | None = None
    includes: list[Include] = field(default_factory=list)
    page: str | None = None
    types: list[str] | None = None
    criteria: list[tuple[str, str]] = field(default_factory=list)   # what a page token must agree with
    warnings: list[Issue] = field(default_factory=list)


def split_values(value: str) -> tuple[str, ...]:
    """'a,b\\,c' → ('a', 'b,c'); empty alternatives are dropped."""
    return tuple(v.replace("\\,", ",") for v in re.split(r"(?<!\\),", value) if v != "")


def _clause(name: str, value: str) -> Clause:
    values = split_values(value)
    if name.startswith("_has:"):
        parts = name.split(":", 3)
        if len(parts) != 4 or not all(parts[1:]):
            raise BadRequest(f"Invalid _has parameter '{name}': expected _has:Type:reference:parameter",
                             expression=name)
        return Clause(name, "_has", None, values, chain=parts[3], has=(parts[1], parts[2]))
    head, _, chain = name.partition(".")
    code, _, modifier = head.partition(":")
    return Clause(name, code, modifier or None, values, chain or None)


def page_size(value: str) -> int:
    """`_count` of a search or a history: at most MAX_COUNT."""
    count = whole_number(value)
    if count is None:
        raise BadRequest(f"Invalid _count '{value[:40]}': expected a non-negative integer", expression="_count")
    return min(count, MAX_COUNT)


def _sort(value: str) -> list[tuple[str, int]]:
    keys = []
    for key in value.split(","):
        key = key.strip()
        if not key or key == "-":
            raise BadRequest(f"Invalid _sort '{value}'", expression="_sort")
        keys.append((key[1:], -1) if key.startswith("-") else (key, 1))
    return keys


def _include(name: str, value: str, reverse: bool) -> Include:
    modifier = name.partition(":")[2]
    if modifier not in ("", "iterate", "recurse"):
        raise BadRequest(f"Unknown modifier ':{modifier}' on {name.partition(':')[0]}", expression=name)
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise BadRequest(f"Invalid {name} '{value}': expected Type:parameter[:targetType]", expression=name)
    return Include(parts[0], parts[1], parts[2] if len(parts) == 3 else None, bool(modifier), reverse)


def parse_query(params: list[tuple[str, str]]) -> ParsedQuery:
    """Split the query into clauses and result parameters, checking the result parameters' syntax."""
    q = ParsedQuery()
    seen: set[str] = set()
    for name, value in params:
        base = name.partition(":")[0]
        if base in SINGLE_PARAMS:
            if base in seen:
                raise BadRequest(f"Parameter '{base}' may appear only once", expression=base)
            seen.add(base)
        if name in IGNORED_PARAMS:
            continue
        if base in ("_include", "_revinclude"):
            q.includes.append(_include(name, value, reverse=base == "_revinclude"))
        elif name == "_count":
            q.count = page_size(value)
        elif name == "_sort":
            q.sort = _sort(value)
            q.criteria.append((name, value))
        elif name == "_total":
            if value not in TOTAL_MODES:
                raise BadRequest(f"Invalid _total '{value}': expected one of {', '.join(TOTAL_MODES)}",
                                 expression="_total")
            q.total = value
        elif name == "_summary":
            if value not in SUMMARY_MODES:
                raise BadRequest(f"Invalid _summary '{value}': expected one of {', '.join(SUMMARY_MODES)}",
                                 expression="_summary")
            q.summary = value
        elif name == "_elements":
            q.elements = [e.strip() for e in value.split(",") if e.strip()]
        elif name == "_page":
            q.page = value
        elif name == "_type":
            q.types = [t.strip() for t in value.split(",") if t.strip()]
            q.criteria.append((name, value))
        elif value == "":
            continue                      # an empty value means no constraint
        else:
            q.clauses.append(_clause(name, value))
            q.criteria.append((name, value))
    return q
