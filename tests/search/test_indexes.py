"""Every compiled query shape is served by a declared index; each collection stays under MongoDB's limit."""

from __future__ import annotations

import pytest

from fhir_server.fhir_types import SUPPORTED_TYPES
from fhir_server.search import paging
from fhir_server.search.compile import compile_search
from fhir_server.search.indexes import MAX_INDEXES, index_declarations, served
from fhir_server.search.registry import registry

FORBIDDEN = ("$where", "$expr", "$function", "$accumulator", "$text")
SAMPLES = {
    "string": [(None, "dupont"), ("exact", "Dupont"), ("contains", "pon"), ("contains", "jean-pi"),
               (None, "a,b")],
    "token": [(None, "http://s|c"), (None, "c"), (None, "|c"), (None, "http://s|"), ("text", "abc"),
              ("not", "http://s|c"), ("not", "http://s|"), (None, "a,b")],
    "date": [(None, f"{p}2024-03-01") for p in ("", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")]
            + [(None, "2024,2025-01-01T10:00:00Z")],
    "number": [(None, f"{p}10") for p in ("", "ne", "gt", "lt", "ge", "le", "ap")],
    "quantity": [(None, f"{p}10") for p in ("", "ne", "gt", "lt", "ge", "le", "ap")]
                + [(None, "10|http://unitsofmeasure.org|mg"), (None, "10||mg")],
    "uri": [(None, "http://a.org/x"), ("below", "http://a.org"), ("above", "http://a.org/x/y")],
    "reference": [(None, "1"), (None, "1,2"), ("identifier", "http://s|1")],
}
COMPONENT_SAMPLES = {"token": "http://s|c", "quantity": "gt10", "date": "ge2024", "string": "abc",
                     "reference": "1"}


def _leading_keys(resource_type: str) -> set[str]:
    return {decl[0][0] for decl in index_declarations(resource_type)} | {"_id"}


def _forbidden(obj) -> list[str]:
    if isinstance(obj, dict):
        return [k for k in obj if k in FORBIDDEN] + [f for v in obj.values() for f in _forbidden(v)]
    if isinstance(obj, list):
        return [f for v in obj for f in _forbidden(v)]
    return []


def _queries(resource_type: str):
    reg = registry()
    for code, param in reg.params_for(resource_type).items():
        yield code, [(f"{code}:missing", "true")]
        yield code, [(f"{code}:missing", "false")]
        if code == "_id":
            yield code, [("_id", "a,b")]
            continue
        if param.type == "composite":
            value = "$".join(COMPONENT_SAMPLES[k] for k in reg.component_kinds(param))
            yield code, [(code, value)]
            continue
        for modifier, value in SAMPLES[param.type]:
            if param.type == "reference" and modifier is None and param.targets:
                value = ",".join(f"{param.targets[0]}/{v}" for v in value.split(","))
            yield code, [(f"{code}:{modifier}" if modifier else code, value)]
        if param.type == "reference" and param.targets:
            yield code, [(f"{code}:{param.targets[0]}", "1")]


def _resolve(resource_type, params, fields=None):
    return [{"_id": "x", "_idx": {}}]


@pytest.mark.parametrize("resource_type", SUPPORTED_TYPES)
def test_every_parameter_kind_is_served_by_a_declared_index(resource_type):
    keys = _leading_keys(resource_type)
    checked = 0
    for code, query in _queries(resource_type):
        compiled = compile_search(resource_type, query, resolve=_resolve)
        assert not _forbidden(compiled.filter), (query, compiled.filter)
        if query[0][0].endswith(":not") or query[0][0] == f"{code}:missing" and query[0][1] == "false":
            continue        # :not and :missing=false match most documents: no index can make them selective
        assert served(compiled.filter, keys), (resource_type, query, compiled.filter)
        checked += 1
    assert checked > 5


@pytest.mark.parametrize("resource_type", SUPPORTED_TYPES)
def test_each_collection_stays_under_the_index_limit(resource_type):
    declarations = index_declarations(resource_type)
    assert len(declarations) <= MAX_INDEXES
    assert len({tuple(d) for d in declarations}) == len(declarations)


def test_chains_and_has_compile_to_served_filters():
    keys = _leading_keys("DocumentReference")
    for query in ([("patient.identifier", "http://s|1")], [("author.family", "x")],
                  [("subject:Patient.name", "x")]):
        assert served(compile_search("DocumentReference", query, resolve=_resolve).filter, keys), query
    assert served(compile_search("Patient", [("_has:Observation:patient:code", "1")], resolve=_resolve).filter,
                  _leading_keys("Patient"))


@pytest.mark.parametrize("resource_type", SUPPORTED_TYPES)
def test_sorts_on_dates_and_strings_page_from_an_index(resource_type):
    """A sort alone (no filter) walks the `(_idx.<code>.s, _id)` index in order, forwards or backwards,
    and the keyset condition of any later page is served by that index."""
    declarations = [list(d) for d in index_declarations(resource_type)]
    for code, param in registry().params_for(resource_type).items():
        if param.type not in ("date", "string"):
            continue
        for direction in (1, -1):
            sort = compile_search(resource_type, [("_sort", ("-" if direction < 0 else "") + code)]).sort
            assert [(f, d * direction) for f, d in sort] in declarations, (code, sort)
            for anchor in ((None, "x"), ("v", "x")):
                for forward in (True, False):
                    keyset = paging.keyset_filter(sort, anchor, forward)
                    assert served(keyset, {sort[0][0]}) or served(keyset, {"_id"}), (code, keyset)


def test_index_declarations_are_stable_key_lists():
    decl = index_declarations("DocumentReference")
    assert [("_idx.patient.r", 1)] in decl
    assert [("_idx.date.r.lo", 1), ("_idx.date.r.hi", 1)] in decl and [("_idx.date.r.hi", 1)] in decl
    assert [("_idx._lastUpdated.s", 1), ("_id", 1)] in decl
    assert [("_idx.description.v", 1)] in decl
