"""Step 2 of a search: clauses → one MongoDB filter on the `_idx` values, plus sort and paging. Pure, except
that chained parameters and `_has` ask the caller's `resolve` for the inner search's matches (chain.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from fhir_server.errors import BadRequest, Issue
from fhir_server.fhir_types import SUPPORTED_TYPES
from fhir_server.search import paging
from fhir_server.search.parameters import Clause, Include, ParsedQuery, parse_query
from fhir_server.search.registry import UNSUPPORTED, SearchParam, SearchRegistry, registry
from fhir_server.search.types import TYPES
from fhir_server.search.types.base import CompileContext

# resolve(resource_type, params[, fields]) -> the stored documents matching that inner search (bounded),
# with at least `_id` and the given fields
Resolver = Callable[..., list[dict]]
# parameters that apply to every type, usable in a system-level search
COMMON_PARAMS = ("_id", "_lastUpdated", "_tag", "_profile", "_security", "_source")


@dataclass
class CompiledSearch:
    resource_type: str | None
    filter: dict
    sort: list[tuple[str, int]]
    count: int
    total: str | None
    summary: str | None
    elements: list[str] | None
    includes: list[Include]
    revincludes: list[Include]
    cursor: paging.Cursor | None
    fingerprint: str
    types: list[str] | None = None
    warnings: list[Issue] = field(default_factory=list)
    ignored: frozenset = frozenset()   # (name, value or None) a lenient search left out, for the self link

    @property
    def page_filter(self) -> dict:
        """The filter with the keyset condition of the requested page (the plain filter counts the total)."""
        if self.cursor is None:
            return self.filter
        return {"$and": [self.filter, paging.keyset_filter(self.sort, self.cursor.anchor,
                                                            self.cursor.direction == 1)]}


class _Compiler:
    def __init__(self, resource_type: str | None, lenient: bool, base_url: str | None,
                 resolve: Resolver | None, now: datetime | None, reg: SearchRegistry):
        self.type, self.lenient, self.base_url, self.resolve, self.now, self.reg = \
            resource_type, lenient, base_url, resolve, now, reg
        self.warnings: list[Issue] = []
        self.ignored: set[tuple[str, str | None]] = set()

    def refuse(self, message: str, expression: str, code: str = "not-supported") -> None:
        """Unknown or unsupported input: a 400, or a warning when the client asked for lenient handling."""
        if not self.lenient:
            raise BadRequest(message, expression=expression, code=code)
        self.warnings.append(Issue(message + " (ignored)", code, "warning", [expression]))

    def params(self) -> dict[str, SearchParam]:
        if self.type is None:
            return {c: p for c in COMMON_PARAMS if (p := self.reg.get("Patient", c))}
        return self.reg.params_for(self.type)

    def context(self, param: SearchParam, resource_type: str | None = None) -> CompileContext:
        kinds = self.reg.component_kinds(param) if param.type == "composite" else ()
        return CompileContext(resource_type or self.type or "Resource", param.code, self.base_url,
                              param.targets, self.now, kinds, self.reg.known_types)

    def clause(self, clause: Clause) -> dict | None:
        if clause.code == "_has":
            from fhir_server.search.chain import has_filter
            return has_filter(self, clause)
        if clause.code in UNSUPPORTED:
            self.refuse(f"Search parameter '{clause.code}' is not supported", clause.name)
            return None
        param = self.params().get(clause.code)
        if param is None:
            where = f"type {self.type}" if self.type else "a system-level search"
            self.refuse(f"Unknown search parameter '{clause.code}' for {where}", clause.name)
            return None
        if clause.chain:
            from fhir_server.search.chain import chain_filter
            return chain_filter(self, param, clause)
        if clause.modifier == "missing":
            return self.missing(param, clause)
        if clause.modifier and clause.modifier not in param.modifiers:
            self.refuse(f"Modifier ':{clause.modifier}' is not supported on search parameter '{param.code}'",
                        clause.name)
            return None
        if param.code == "_id":
            return self.ids(clause)
        return TYPES[param.type].compile(param.field, clause.modifier, list(clause.values), self.context(param))

    def missing(self, param: SearchParam, clause: Clause) -> dict:
        if clause.values not in (("true",), ("false",)):
            raise BadRequest(f"Invalid value for '{clause.name}': expected true or false", expression=clause.name)
        if param.code == "_id":
            return {} if clause.values == ("false",) else {"_id": {"$in": []}}
        if param.type == "composite":       # present when its first component is (what the index holds)
            path = f"{param.field}.c.c0.{TYPES[self.reg.component_kinds(param)[0]].PRESENCE}"
        else:
            path = f"{param.field}.{TYPES[param.type].PRESENCE}"
        return {path: None} if clause.values == ("true",) else {path: {"$ne": None}}

    def ids(self, clause: Clause) -> dict:
        if clause.modifier == "not":
            return {"_id": {"$nin": list(clause.values)}}
        if clause.modifier:
            raise BadRequest(f"Modifier ':{clause.modifier}' is not supported on '_id'", expression=clause.name)
        return {"_id": clause.values[0]} if len(clause.values) == 1 else {"_id": {"$in": list(clause.values)}}

    def sort(self, keys: list[tuple[str, int]]) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for code, direction in keys:
            param = self.params().get(code)
            if code == "_id":
                out.append(("_id", direction))
            elif param is None or TYPES[param.type].SORT_TYPE is None or (self.type is None and code != "_id"):
                self.refuse(f"Cannot sort on '{code}'" + (f" for type {self.type}" if self.type else ""), "_sort")
            else:
                out.append((f"{param.field}.s", direction))
        if not out or out[-1][0] != "_id":
            out.append(("_id", out[0][1] if out else 1))
        return out

    def includes(self, includes: list[Include]) -> list[Include]:
        kept = []
        for inc in includes:
            if inc.source not in SUPPORTED_TYPES:
                self.refuse(f"Unknown resource type '{inc.source}' in {inc}", str(inc), "invalid")
                self.ignored.add(tuple(str(inc).split("=", 1)))
                continue
            if inc.code == "*" and not inc.reverse:
                kept.append(inc)
                continue
            param = self.reg.get(inc.source, inc.code)
            if param is None or param.type != "reference":
                self.refuse(f"'{inc.code}' is not a reference search parameter of {inc.source} in {inc}",
                            str(inc), "invalid")
                self.ignored.add(tuple(str(inc).split("=", 1)))
            elif inc.target and inc.target not in self.reg.known_types:
                self.refuse(f"Unknown target type '{inc.target}' in {inc}", str(inc), "invalid")
                self.ignored.add(tuple(str(inc).split("=", 1)))
            else:
                kept.append(inc)
        return kept


def merge(clauses: list[dict]) -> dict:
    """AND of clauses: one flat dict where fields do not collide, `$and` for the rest."""
    out: dict = {}
    rest: list[dict] = []
    for c in clauses:
        if list(c) == ["$and"]:
            rest.extend(c["$and"])
        elif c and not (set(c) & set(out)) and "$and" not in c:
            out.update(c)
        elif c:
            rest.append(c)
    if rest:
        out["$and"] = rest
    return out


def compile_search(resource_type: str | None, params: list[tuple[str, str]] | ParsedQuery, *,
                   lenient: bool = False, base_url: str | None = None, resolve: Resolver | None = None,
                   now: datetime | None = None) -> CompiledSearch:
    """Compile a search on `resource_type` (None: all types) into one Mongo filter, sort and paging."""
    if resource_type is not None and resource_type not in SUPPORTED_TYPES:
        raise BadRequest(f"Unknown resource type '{resource_type}'", code="not-supported")
    query = params if isinstance(params, ParsedQuery) else parse_query(params)
    comp = _Compiler(resource_type, lenient, base_url, resolve, now, registry())
    comp.warnings.extend(query.warnings)
    clauses = [{"deleted": False}]
    for clause in query.clauses:
        compiled = comp.clause(clause)
        if compiled is None:
            comp.ignored.add((clause.name, None))
        else:
            clauses.append(compiled)
    if resource_type is None and query.sort:
        comp.refuse("_sort is not supported in a system-level search", "_sort")
        query.sort = []
    sort = comp.sort(query.sort)
    includes = comp.includes(query.includes)
    fp = paging.fingerprint(resource_type, query.criteria)
    n_keys = len(sort) + (1 if resource_type is None else 0)
    cursor = paging.decode(query.page, fp, n_keys) if query.page else None
    if query.types is not None:
        unknown = [t for t in query.types if t not in SUPPORTED_TYPES]
        if unknown:
            comp.refuse(f"Unknown resource type(s) in _type: {', '.join(unknown)}", "_type", "invalid")
            query.types = [t for t in query.types if t in SUPPORTED_TYPES]
    return CompiledSearch(resource_type, merge(clauses), sort, query.count, query.total, query.summary,
                          query.elements, [i for i in includes if not i.reverse], [i for i in includes if i.reverse],
                          cursor, fp, query.types, comp.warnings, frozenset(comp.ignored))

