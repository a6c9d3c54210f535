"""The project's profiles: what a resource must hold beyond FHIR R4 itself (profiles/, shared/DMP_RULES.md).

Each profile (profiles/StructureDefinition-Dmp*.json) is compiled by scripts/gen_profile_schemas.py into a
JSON Schema, profiles/schemas/<Type>.schema.json (loaded from its package copy, definitions/profile-schemas.json),
that states only what the profile adds (required elements, INS / RPPS / FINESS identifier systems, DMP codes);
the structure itself is checked by structure.py first.
A schema is read and compiled once, on first use of its type. Every violation becomes one Issue whose
expression is the FHIRPath of the element (`DocumentReference.securityLabel[0].coding[0].code`).

jsonschema decides and words every issue. It is slow on valid resources, though (several µs for each subschema
it enters, ~300 µs for a DocumentReference), so each schema is also compiled into plain Python predicates that
answer "valid?" in a few µs; jsonschema runs only when they say no. The predicates cover exactly the keywords
the generator writes and refuse any other (tests/validation/test_profiles.py checks that both agree).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources as package_files

import orjson
from jsonschema import Draft202012Validator, ValidationError

from fhir_server.errors import Issue, Unprocessable

# the issue code when the schema does not name one (`x-issue`)
ISSUE_CODES = {"required": "required", "enum": "code-invalid", "const": "code-invalid"}
MAX_SHOWN = 64
NOT_CHECKS = frozenset({"$schema", "$id", "title", "description", "x-issue", "x-required",  # annotations
                        "then", "else", "minContains", "maxContains"})  # read with their sibling keyword


@cache
def schemas() -> dict[str, dict]:
    """{resource type: schema}, from the package copy of profiles/schemas/ (definitions/profile-schemas.json)."""
    raw = package_files.files("fhir_server.definitions").joinpath("profile-schemas.json").read_bytes()
    return orjson.loads(raw)["schemas"]


def profiled_types() -> frozenset[str]:
    return frozenset(schemas())


@cache
def _validator(resource_type: str) -> Draft202012Validator:
    schema = schemas()[resource_type]
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def _is_valid(resource_type: str) -> Callable[[object], bool]:
    return compile_predicate(_validator(resource_type).schema)


def profile_issues(resource: dict) -> list[Issue]:
    """Every violation of the project profile of resource["resourceType"] (none for types without one)."""
    resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
    if not isinstance(resource_type, str) or resource_type not in profiled_types():
        return []
    if _is_valid(resource_type)(resource):
        return []
    validator = _validator(resource_type)
    found: list[tuple[Issue, bool]] = []
    for error in validator.iter_errors(resource):
        found.extend(_issues(error, resource_type, validator.schema["title"]))
    return _deduplicated(found)


def check_profile(resource: dict) -> None:
    """Raises Unprocessable (422) with every issue when the resource breaks its profile."""
    issues = profile_issues(resource)
    if issues:
        title = _validator(resource["resourceType"]).schema["title"]
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise Unprocessable(f"The resource does not conform to {title}: {issues[0].diagnostics}{more}", issues=issues)


def _issues(error: ValidationError, resource_type: str, profile: str) -> Iterable[tuple[Issue, bool]]:
    """(issue, whether it only sums up what a deeper issue may say better)."""
    path = _fhirpath(resource_type, error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    code = schema.get("x-issue") or ISSUE_CODES.get(error.validator, "invariant")
    described = schema.get("description", "")
    if error.validator == "required":
        for name in error.validator_value:
            if isinstance(error.instance, dict) and name not in error.instance:
                expression = f"{path}.{name}"
                wanted = schema.get("x-required", {}).get(name, name)
                yield Issue(f"{expression}: missing; {profile} requires it ({wanted})", code, "error",
                            [expression]), False
    elif error.validator in ("enum", "const"):
        allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
        text = f"{path}: {_show(error.instance)} is not {described or 'allowed'} ({', '.join(map(str, allowed))})"
        yield Issue(text, code, "error", [path]), False
    elif error.validator == "pattern":
        yield Issue(f"{path}: {_show(error.instance)} is not {described}", code, "error", [path]), False
    elif error.validator == "maxItems":
        yield Issue(f"{path}: at most {error.validator_value} allowed by {profile} ({described})", code, "error",
                    [path]), False
    else:  # contains, minContains, maxContains, anyOf: the rule's own words
        yield Issue(f"{path}: {described or error.message}", code, "error", [path]), error.validator == "contains"


def _deduplicated(found: list[tuple[Issue, bool]]) -> list[Issue]:
    """Drops repeats, and a summary ("needs a coding from …") when an issue below it names the exact code."""
    expressions = [e for issue, _ in found for e in issue.expression]
    issues, seen = [], set()
    for issue, summary in found:
        [expression] = issue.expression
        deeper = summary and any(e.startswith(expression + "[") or e.startswith(expression + ".") for e in expressions)
        key = (expression, issue.diagnostics)
        if not deeper and key not in seen:
            seen.add(key)
            issues.append(issue)
    return issues


# --- the fast yes/no ---------------------------------------------------------------------------------------

def compile_predicate(schema: dict) -> Callable[[object], bool]:
    """True when the instance is valid against `schema` (the JSON Schema subset the generator writes)."""
    checks = [_keyword(key, value, schema) for key, value in schema.items() if key not in NOT_CHECKS]
    return checks[0] if len(checks) == 1 else _all(checks)


def _all(checks: list[Callable[[object], bool]]) -> Callable[[object], bool]:
    def check(x) -> bool:
        for one in checks:
            if not one(x):
                return False
        return True
    return check


def _keyword(key: str, value, schema: dict) -> Callable[[object], bool]:
    if key == "properties":
        children = [(name, compile_predicate(sub)) for name, sub in value.items()]

        def properties(x) -> bool:
            if isinstance(x, dict):
                for name, check in children:
                    if name in x and not check(x[name]):
                        return False
            return True
        return properties
    if key == "required":
        return lambda x: not isinstance(x, dict) or all(n in x for n in value)
    if key == "items":
        item = compile_predicate(value)
        return lambda x: not isinstance(x, list) or all(map(item, x))
    if key == "allOf":
        return _all([compile_predicate(sub) for sub in value])
    if key == "anyOf":
        subs = [compile_predicate(sub) for sub in value]
        return lambda x: any(sub(x) for sub in subs)
    if key == "if":
        test, then = compile_predicate(value), compile_predicate(schema.get("then", {}))
        otherwise = compile_predicate(schema.get("else", {}))
        return lambda x: then(x) if test(x) else otherwise(x)
    if key == "contains":
        return _contains(compile_predicate(value), schema.get("minContains", 1), schema.get("maxContains"))
    if key in ("enum", "const"):
        allowed = value if key == "enum" else [value]
        if not all(isinstance(v, str) for v in allowed):
            raise ValueError(f"profile schemas compare strings only, not {allowed!r}")
        return lambda x: isinstance(x, str) and x in allowed
    if key == "pattern":
        regex = re.compile(value)
        return lambda x: not isinstance(x, str) or regex.search(x) is not None
    if key == "maxItems":
        return lambda x: not isinstance(x, list) or len(x) <= value
    raise ValueError(f"profile schema keyword {key!r} has no fast check: add it to compile_predicate")


def _contains(match: Callable[[object], bool], low: int, high: int | None) -> Callable[[object], bool]:
    def check(x) -> bool:
        if not isinstance(x, list):
            return True
        count = sum(1 for item in x if match(item))
        return count >= low and (high is None or count <= high)
    return check


def _fhirpath(resource_type: str, path: Iterable) -> str:
    """deque(['securityLabel', 0, 'coding', 0, 'code']) → 'DocumentReference.securityLabel[0].coding[0].code'."""
    return resource_type + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _show(value) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…")
