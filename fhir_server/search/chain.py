"""Chained parameters and `_has` (https://hl7.org/fhir/R4/search.html#chaining), resolved inner search first.

`subject:Patient.identifier=X` runs `Patient?identifier=X` (through the caller's `resolve`, which applies
the same access filter and a bound) and becomes `subject ∈ {Patient/…}`; `patient.identifier=X` also
matches a logical reference carrying that identifier. `_has:Observation:patient:code=X` runs
`Observation?code=X` and keeps the resources its `patient` references point to. An inner search with
more than MAX_INNER matches is refused (400 too-costly) rather than answered partially.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fhir_server.errors import BadRequest
from fhir_server.fhir_types import SUPPORTED_TYPES
from fhir_server.search.parameters import Clause
from fhir_server.search.registry import SearchParam
from fhir_server.search.types import reference
from fhir_server.search.types.base import any_of

if TYPE_CHECKING:
    from fhir_server.search.compile import _Compiler

MAX_INNER = 1000
NOTHING = {"_id": {"$in": []}}
# a PractitionerRole has no name: MHD's `author.given` / `author.family` reach it through its practitioner
CHAIN_VIA = {("PractitionerRole", "given"): "practitioner", ("PractitionerRole", "family"): "practitioner",
             ("PractitionerRole", "name"): "practitioner"}


MHD_AUTHOR_NAME_TARGETS = ("Practitioner", "PractitionerRole")


def _value(clause: Clause) -> str:
    return ",".join(v.replace(",", "\\,") for v in clause.values)


def _inner(comp: "_Compiler", resource_type: str, params: list[tuple[str, str]], name: str,
           fields: list[str] | None = None) -> list[dict]:
    if comp.resolve is None:
        raise BadRequest(f"Chained parameter '{name}' needs a store to resolve against", expression=name)
    docs = comp.resolve(resource_type, params, fields) if fields else comp.resolve(resource_type, params)
    if len(docs) > MAX_INNER:
        raise BadRequest(f"'{name}' matches more than {MAX_INNER} {resource_type} resources: "
                         "narrow the chained criterion", expression=name, code="too-costly")
    return docs


def chain_filter(comp: "_Compiler", param: SearchParam, clause: Clause) -> dict | None:
    if param.type != "reference":
        comp.refuse(f"'{param.code}' is not a reference parameter and cannot be chained", clause.name)
        return None
    head, _, rest = clause.chain.partition(".")
    inner_code = head.partition(":")[0]
    targets = [clause.modifier] if clause.modifier else [t for t in param.targets if t in SUPPORTED_TYPES]
    if not clause.modifier and param.code == "author" and inner_code in ("given", "family"):
        # IHE MHD ITI-67: author.given / author.family name the authoring professional (Practitioner.name);
        # chaining through every Patient of that name would make the query unbounded
        targets = [t for t in targets if t in MHD_AUTHOR_NAME_TARGETS]
    targets = [t for t in targets if inner_code in comp.reg.params_for(t) or inner_code == "_has"
               or (t, inner_code) in CHAIN_VIA]
    if clause.modifier and clause.modifier not in param.targets:
        comp.refuse(f"'{param.code}' does not refer to {clause.modifier}", clause.name)
        return None
    if not targets:
        comp.refuse(f"No target of '{param.code}' has a search parameter '{inner_code}'", clause.name)
        return None
    refs: set[str] = set()
    for target in targets:
        via = CHAIN_VIA.get((target, inner_code)) if inner_code not in comp.reg.params_for(target) else None
        chain = f"{via}.{clause.chain}" if via else clause.chain
        docs = _inner(comp, target, [(chain, _value(clause))], clause.name)
        refs |= {f"{target}/{d['_id']}" for d in docs}
    key = f"{param.field}.r"
    branches = [{key: {"$in": sorted(refs)}}] if refs else []
    if inner_code == "identifier" and not rest and ":" not in head:   # a logical reference by identifier
        branches.append(reference.compile(param.field, "identifier", list(clause.values), comp.context(param)))
    return any_of(branches) if branches else NOTHING


def has_filter(comp: "_Compiler", clause: Clause) -> dict | None:
    other, ref_code = clause.has
    if comp.type is None:
        comp.refuse("_has needs a resource type", clause.name)
        return None
    if other not in SUPPORTED_TYPES:
        comp.refuse(f"Unknown resource type '{other}' in '{clause.name}'", clause.name)
        return None
    ref = comp.reg.get(other, ref_code)
    if ref is None or ref.type != "reference":
        comp.refuse(f"'{ref_code}' is not a reference parameter of {other} in '{clause.name}'", clause.name)
        return None
    docs = _inner(comp, other, [(clause.chain, _value(clause))], clause.name, [f"_idx.{ref_code}.r"])
    prefix = f"{comp.type}/"
    ids = sorted({r[len(prefix):] for d in docs for r in d.get("_idx", {}).get(ref_code, {}).get("r", [])
                  if r.startswith(prefix)})
    return {"_id": {"$in": ids}}
