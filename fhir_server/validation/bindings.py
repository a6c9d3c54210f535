"""Required bindings: a coded element bound with strength `required` must hold a code of its value set.

https://hl7.org/fhir/R4/terminologies.html#required

fhir.resources does not check them (``"gender": "xx"`` passes), so this module does. Which elements
are bound comes from ``definitions/required-bindings.json`` (generated from the R4 StructureDefinitions
by ``scripts/gen_required_bindings.py``); the codes come from ``definitions/valuesets-required.json``.
Both are read once, on first use. A value set that cannot be expanded here (a filter, a code system
we do not hold such as BCP 13 mime types) is not checked: we never reject on uncertainty.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import orjson

from fhir_server.errors import Issue

DEFINITIONS = Path(__file__).resolve().parent.parent / "definitions"
MAX_LISTED_CODES = 12


class _ResourceSlot:
    """Tree marker: this element holds a whole resource (contained, Bundle.entry.resource)."""


RESOURCE = _ResourceSlot()


# --- value sets -------------------------------------------------------------------------------

@cache
def _terminology() -> tuple[dict[str, dict], dict[str, dict]]:
    bundle = orjson.loads((DEFINITIONS / "valuesets-required.json").read_bytes())
    value_sets, code_systems = {}, {}
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        table = value_sets if resource.get("resourceType") == "ValueSet" else code_systems
        table[resource.get("url")] = resource
    return value_sets, code_systems


def _concept_codes(concepts: list[dict]) -> set[str]:
    """Codes of a (possibly nested) CodeSystem concept list."""
    codes: set[str] = set()
    for concept in concepts:
        codes.add(concept["code"])
        codes |= _concept_codes(concept.get("concept", []))
    return codes


def _expand_include(include: dict, seen: frozenset[str]) -> dict[str, frozenset[str]] | None:
    if include.get("filter"):
        return None
    result: dict[str, frozenset[str]] = {}
    system = include.get("system")
    if system:
        if "concept" in include:
            result[system] = frozenset(c["code"] for c in include["concept"])
        else:
            code_system = _terminology()[1].get(system)
            if code_system is None or code_system.get("content") not in (None, "complete"):
                return None
            result[system] = frozenset(_concept_codes(code_system.get("concept", [])))
    for url in include.get("valueSet", []):
        nested = _expand(url.split("|")[0], seen)
        if nested is None:
            return None
        if system:  # system and value sets together: their intersection
            result[system] &= nested.get(system, frozenset())
        else:  # value sets only: their union
            for nested_system, codes in nested.items():
                result[nested_system] = result.get(nested_system, frozenset()) | codes
    return result


def _expand(url: str, seen: frozenset[str] = frozenset()) -> dict[str, frozenset[str]] | None:
    if url in seen:
        return None
    value_set = _terminology()[0].get(url)
    if value_set is None:
        return None
    compose = value_set.get("compose")
    if not compose:
        contains = value_set.get("expansion", {}).get("contains")
        if not contains:
            return None
        result: dict[str, set[str]] = {}
        for item in contains:
            result.setdefault(item.get("system"), set()).add(item.get("code"))
        return {k: frozenset(v) for k, v in result.items()}
    codes: dict[str, frozenset[str]] = {}
    for include in compose.get("include", []):
        part = _expand_include(include, seen | {url})
        if part is None:
            return None
        for system, system_codes in part.items():
            codes[system] = codes.get(system, frozenset()) | system_codes
    for exclude in compose.get("exclude", []):
        part = _expand_include(exclude, seen | {url})
        if part is None:
            return None
        for system, system_codes in part.items():
            codes[system] = codes.get(system, frozenset()) - system_codes
    return codes


@cache
def expand(url: str) -> dict[str, frozenset[str]] | None:
    """{code system: codes} of a value set, or None when it cannot be expanded locally."""
    return _expand(url)


@cache
def _all_codes(url: str) -> frozenset[str] | None:
    expansion = expand(url)
    return None if expansion is None else frozenset().union(*expansion.values())


# --- which elements are bound -----------------------------------------------------------------

@cache
def _tables() -> dict[str, dict]:
    return orjson.loads((DEFINITIONS / "required-bindings.json").read_bytes())["types"]


def _node(tree: dict, path: str) -> dict:
    node = tree
    for name in path.split(".")[1:]:
        child = node.get(name)
        if not isinstance(child, dict):
            child = node[name] = {}
        node = child
    return node


def _build_tree(table: dict) -> dict:
    """Nested {element name: sub-tree | value set url | RESOURCE}, pruned to what holds a bound code.

    A content reference points to the same sub-tree object, so recursion (Consent.provision.provision)
    costs nothing to build and is bounded by the instance's own depth when walked.
    """
    tree: dict = {}
    for path, url in table["bindings"].items():
        parent, _, name = path.rpartition(".")
        if _all_codes(url) is not None:  # skip what we cannot check (e.g. mime types)
            _node(tree, parent)[name] = url
    for path, target in table["contentReferences"].items():
        target_node = _find(tree, target)
        if target_node:
            parent, _, name = path.rpartition(".")
            _node(tree, parent)[name] = target_node
    for path in table["resourceElements"]:
        parent, _, name = path.rpartition(".")
        _node(tree, parent)[name] = RESOURCE
    return tree


def _find(tree: dict, path: str) -> dict | None:
    node = tree
    for name in path.split(".")[1:]:
        node = node.get(name) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


@cache
def _tree(resource_type: str) -> dict | None:
    table = _tables().get(resource_type)
    return None if table is None else _build_tree(table)


def warm_up() -> None:
    """Load the definitions and expand every value set now (optional: otherwise done on first use)."""
    for resource_type in _tables():
        _tree(resource_type)


# --- the check --------------------------------------------------------------------------------

def check_bindings(resource: dict) -> list[Issue]:
    """One `code-invalid` Issue per coded element outside its required value set."""
    issues: list[Issue] = []
    resource_type = resource.get("resourceType")
    tree = _tree(resource_type) if isinstance(resource_type, str) else None
    if tree:
        _walk(tree, resource, resource_type, issues)
    return issues


def _walk(tree: dict, obj: dict, path: str, issues: list[Issue]) -> None:
    for name, rule in tree.items():
        value = obj.get(name)
        if value is None:
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                _check(rule, item, f"{path}.{name}[{i}]", issues)
        else:
            _check(rule, value, f"{path}.{name}", issues)


def _check(rule, value, path: str, issues: list[Issue]) -> None:
    if rule is RESOURCE:
        if isinstance(value, dict):
            nested = _tree(value.get("resourceType")) if isinstance(value.get("resourceType"), str) else None
            if nested:
                _walk(nested, value, path, issues)
    elif isinstance(rule, dict):
        if isinstance(value, dict):
            _walk(rule, value, path, issues)
    elif isinstance(value, str):
        _check_code(rule, value, path, issues)
    elif isinstance(value, dict):
        if "coding" in value:
            _check_codeable_concept(rule, value, path, issues)
        else:
            _check_coding(rule, value, path, issues)


def _check_code(url: str, code: str, path: str, issues: list[Issue]) -> None:
    allowed = _all_codes(url)
    if allowed is not None and code not in allowed:
        issues.append(_issue(f"The code '{_short(code)}'", url, allowed, path))


def _coding_verdict(url: str, coding) -> bool | None:
    """True/False when the coding is surely in/out of the value set, None when it cannot be told."""
    if not isinstance(coding, dict):
        return None
    system, code = coding.get("system"), coding.get("code")
    if not isinstance(system, str) or not isinstance(code, str):
        return None
    expansion = expand(url)
    return None if expansion is None else code in expansion.get(system, ())


def _check_coding(url: str, coding: dict, path: str, issues: list[Issue]) -> None:
    if _coding_verdict(url, coding) is False:
        issues.append(_issue(f"The code '{_short(coding['system'])}#{_short(coding['code'])}'",
                             url, _all_codes(url), path))


def _check_codeable_concept(url: str, concept: dict, path: str, issues: list[Issue]) -> None:
    codings = concept.get("coding")
    if not isinstance(codings, list) or not codings:
        return
    verdicts = [_coding_verdict(url, c) for c in codings]
    if all(v is False for v in verdicts):
        given = ", ".join(f"{_short(c['system'])}#{_short(c['code'])}" for c in codings)
        issues.append(_issue(f"None of the codes ({given})", url, _all_codes(url), path))


def _issue(what: str, url: str, allowed: frozenset[str] | None, path: str) -> Issue:
    text = f"{what} is not in the required value set {url}"
    if allowed and len(allowed) <= MAX_LISTED_CODES:
        text += ": expected one of " + ", ".join(sorted(allowed))
    return Issue(text, "code-invalid", "error", [path])


def _short(text: str, limit: int = 64) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
