"""Structural validation of an incoming resource: https://hl7.org/fhir/R4/validation.html

Three passes over the JSON as received, reported together as one 422 OperationOutcome:

1. the JSON shape (``_Shape`` below), driven by the field tables of the ``fhir.resources.R4B`` models:
   unknown elements, JSON types (``"active": "true"`` is a string, not a boolean), nulls and empty
   objects/arrays, arrays where one value is expected and back, choice elements given twice or not at all.
   fhir.resources is lenient about these (it coerces ``"true"``, accepts ``fhir_comments`` and python
   field names, parses strings as JSON objects) and we store the JSON as given, so they are checked here;
2. the values, with the R4B model (``model_validate``): dates, ids, uris, required elements ...;
3. the required bindings (``bindings.py``): fhir.resources does not check them.

The R4B models match the R4 (4.0.1) StructureDefinitions of our types element for element
(checked when this module was written). The body is returned as given: never re-serialised.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from functools import cache

import orjson
import pydantic
from fhir.resources.R4B import get_fhir_model_class
from fhir_core.types import FhirBase, FhirElementOrResourceBase

from fhir_server.errors import BadRequest, FhirError, Issue, Unprocessable
from fhir_server.fhir_types import SUPPORTED_TYPES
from fhir_server.validation.bindings import check_bindings
from fhir_server.validation.bindings import warm_up as bindings_warm_up

MAX_DEPTH = 64  # element nesting; far beyond real content, well below Python's recursion limit
ID_MAX_LENGTH = 64  # R4 `id`; fhir.resources allows 255
JSON_KINDS = {"boolean": "boolean", "integer": "integer", "positiveInt": "integer", "unsignedInt": "integer",
              "decimal": "number"}  # every other primitive is a JSON string
ABSTRACT_RESOURCES = frozenset({"Resource", "DomainResource"})


def parse_json(raw: bytes) -> object:
    """The request body as JSON; 400 when it is empty, not UTF-8 or not JSON."""
    if isinstance(raw, (bytearray, memoryview)):
        raw = bytes(raw)
    if not isinstance(raw, (bytes, str)):
        raise BadRequest("The request body must be JSON text")
    if isinstance(raw, bytes) and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a UTF-8 byte order mark is tolerated
    if not raw.strip():
        raise BadRequest("The request body is empty: a JSON resource was expected")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        if isinstance(raw, bytes) and not _is_utf8(raw):
            raise BadRequest("The request body is not valid UTF-8 text") from None
        raise BadRequest(f"The request body is not valid JSON: {error}") from None


def validate_resource(body: object, expected_type: str | None = None) -> dict:
    """``body`` when it is a valid resource of a supported type (and of ``expected_type`` when given).

    400 BadRequest when it is not a resource we serve at this endpoint; 422 Unprocessable with one
    Issue per problem (FHIRPath in ``expression``) when it is one, but invalid.
    """
    resource_type = _resource_type(body, expected_type)
    model = get_fhir_model_class(resource_type)
    shape = _Shape()
    shape.walk_resource(body, _fields(model), resource_type)
    issues = shape.issues
    if not shape.fatal:
        issues += _model_issues(body, model, resource_type, shape.reported)
    if not shape.too_deep:
        issues += check_bindings(body)
    if issues:
        raise Unprocessable(f"{resource_type} is invalid: {issues[0].diagnostics}"
                            + (f" (and {len(issues) - 1} more issues)" if len(issues) > 1 else ""),
                            issues=issues)
    return body


def warm_up() -> None:
    """Build the element tables, import the R4B models and expand the value sets now, for our types,
    rather than on the first write of each type (about 0.2 s in all). Optional: call at start-up."""
    pending = [_fields(get_fhir_model_class(t)) for t in SUPPORTED_TYPES]
    seen = set()
    while pending:
        table = pending.pop()
        for spec in table.by_name.values():
            if spec.model is not None and spec.model not in seen:
                seen.add(spec.model)
                pending.append(_fields(spec.model))
    for resource_type in SUPPORTED_TYPES:
        _validate_quietly({"resourceType": resource_type})
    bindings_warm_up()


def _validate_quietly(body: dict) -> None:
    try:
        validate_resource(body)
    except FhirError:
        pass


def _resource_type(body: object, expected_type: str | None) -> str:
    if not isinstance(body, dict):
        raise BadRequest(f"The body must be a JSON object holding a FHIR resource, not {_json_kind(body)}")
    resource_type = body.get("resourceType")
    if resource_type is None:
        raise BadRequest("The resource has no resourceType", expression="resourceType")
    if not isinstance(resource_type, str):
        raise BadRequest(f"resourceType must be a string, not {_json_kind(resource_type)}", expression="resourceType")
    if resource_type not in SUPPORTED_TYPES:
        raise BadRequest(f"Resource type '{_short(resource_type)}' is not supported by this server",
                         expression="resourceType", code="not-supported")
    if expected_type is not None and resource_type != expected_type:
        raise BadRequest(f"resourceType '{resource_type}' does not match the endpoint type '{expected_type}'",
                         expression="resourceType")
    return resource_type


# --- the element tables of the R4B models ---------------------------------------------------------

@dataclass(frozen=True)
class _Field:
    name: str  # JSON name
    kind: str  # boolean | integer | number | string | object | resource
    fhir_type: str  # date, id, code ... or the model name for objects
    is_list: bool
    model: type | None = None  # for kind == object


@dataclass
class _Fields:
    model_name: str
    by_name: dict[str, _Field] = field(default_factory=dict)
    choices: list[tuple[str, tuple[str, ...], bool]] = field(default_factory=list)  # (stem, names, required)
    required: tuple[str, ...] = ()  # elements of minimum cardinality 1 (choices apart)
    is_resource: bool = False


@cache
def _fields(model: type) -> _Fields:
    """The JSON elements of a model (by alias, as in FHIR JSON), built once per model."""
    table = _Fields(model.__name__, is_resource=model.has_resource_base())
    groups: dict[str, tuple[list[str], bool]] = {}
    for name, info in model.model_fields.items():
        json_name = info.alias or name
        spec = _field_spec(json_name, info.annotation)
        if spec is None:  # fhir_comments: not a FHIR element
            continue
        table.by_name[json_name] = spec
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("one_of_many"):
            names, required = groups.setdefault(extra["one_of_many"], ([], False))
            names.append(json_name)
            groups[extra["one_of_many"]] = (names, required or bool(extra.get("one_of_many_required")))
    table.choices = [(stem, tuple(names), required) for stem, (names, required) in groups.items()]
    table.required = _required_elements(model)
    return table


def _required_elements(model: type) -> tuple[str, ...]:
    """Required complex elements are required pydantic fields; fhir.resources lists required
    primitives apart (``get_required_fields``) and checks them only when all else is valid."""
    names = [info.alias or name for name, info in model.model_fields.items() if info.is_required()]
    primitives = model.get_required_fields(model)  # a plain method that does not use self
    aliases = {name: info.alias or name for name, info in model.model_fields.items()}
    names += [aliases.get(name, name) for name, _ in primitives]
    return tuple(dict.fromkeys(names))


def _field_spec(json_name: str, annotation) -> _Field | None:
    is_list = False
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return None
            annotation = args[0]
        elif origin is list:
            is_list, annotation = True, typing.get_args(annotation)[0]
        else:
            break
    if annotation is bool:
        return _Field(json_name, "boolean", "boolean", is_list)
    if typing.get_origin(annotation) is typing.Annotated:
        names = [getattr(m, "__visit_name__", None) for m in typing.get_args(annotation)[1:]]
        fhir_type = next((n for n in names if n), "uuid")
        return _Field(json_name, JSON_KINDS.get(fhir_type, "string"), fhir_type, is_list)
    if isinstance(annotation, type) and issubclass(annotation, FhirBase):
        model = annotation.get_model_klass()
        if issubclass(annotation, FhirElementOrResourceBase):
            return _Field(json_name, "resource", "Resource", is_list)
        return _Field(json_name, "object", model.__name__, is_list, model)
    return None


@cache
def _resource_model(resource_type: str) -> type | None:
    """The R4B model of a (contained) resource type name, None when it is not a concrete resource."""
    if resource_type in ABSTRACT_RESOURCES:
        return None
    try:
        model = get_fhir_model_class(resource_type)
    except Exception:  # noqa: BLE001 - fhir.resources raises ValueError, or worse on odd names
        return None
    return model if model.has_resource_base() else None


# --- pass 1: the JSON shape ---------------------------------------------------------------------

class _Shape:
    """Walks the JSON along the model tables; collects Issues, remembers the JSON paths reported."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.reported: set[str] = set()  # raw JSON paths (with `_x`), to drop duplicate model errors
        self.fatal = False  # the model cannot be run on this body (it would crash)
        self.too_deep = False  # nor can any recursive walk

    def report(self, raw_path: str, diagnostics: str, code: str = "structure", expression: str = "") -> None:
        self.issues.append(Issue(diagnostics, code, "error", [expression or _fhirpath(raw_path)]))
        self.reported.add(raw_path)

    def walk_resource(self, obj: dict, table: _Fields, path: str, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            self.fatal = self.too_deep = True  # the model would recurse as deep (RecursionError)
            return self.report(path, f"The resource is nested more than {MAX_DEPTH} levels deep")
        for name, value in obj.items():
            if name == "resourceType" and table.is_resource:
                continue  # checked by whoever chose this table
            spec = table.by_name.get(name)
            if spec is None:
                self.report(f"{path}.{name}", f"Unknown element '{_short(str(name))}' in {table.model_name}",
                            expression=f"{_fhirpath(path)}.{name}")
            else:
                self.element(obj, spec, value, f"{path}.{name}", depth + 1)
        for name in table.required:
            if obj.get(name) is None and not _has_extension(obj.get("_" + name)):
                self.report(f"{path}.{name}", f"'{name}' is required", "required")
        for stem, names, required in table.choices:
            present = [n for n in names if obj.get(n) is not None or obj.get("_" + n) is not None]
            if len(present) > 1:
                self.report(f"{path}.{stem}[x]", f"Only one of {', '.join(present)} may be present")
            elif required and not present:
                self.report(f"{path}.{stem}[x]", f"One of {', '.join(names)} is required", "required")

    def element(self, parent: dict, spec: _Field, value, path: str, depth: int) -> None:
        if value is None:
            return self.report(path, f"'{spec.name}' is null: leave an element out rather than set it to null")
        if not spec.is_list:
            if isinstance(value, list):
                return self.report(path, f"'{spec.name}' must be a single {spec.fhir_type}, not an array")
            return self.value(spec, value, path, depth)
        if not isinstance(value, list):
            return self.report(path, f"'{spec.name}' must be an array, not {_json_kind(value)}")
        if not value:
            return self.report(path, f"'{spec.name}' is an empty array: leave it out")
        twin = parent.get(spec.name[1:] if spec.name.startswith("_") else "_" + spec.name)
        for i, item in enumerate(value):
            if item is None:
                # [null, "b"] is allowed in primitive arrays, when the `_x` twin has the element at that index
                if not (isinstance(twin, list) and i < len(twin) and twin[i] is not None):
                    self.report(f"{path}[{i}]", f"'{spec.name}' holds a null at index {i}")
            else:
                self.value(spec, item, f"{path}[{i}]", depth)

    def value(self, spec: _Field, value, path: str, depth: int) -> None:
        if spec.kind == "object":
            if not isinstance(value, dict):
                return self.report(path, f"'{spec.name}' must be a JSON object ({spec.fhir_type}), "
                                         f"not {_json_kind(value)}")
            if not value:
                return self.report(path, f"'{spec.name}' is an empty object: leave it out")
            return self.walk_resource(value, _fields(spec.model), path, depth)
        if spec.kind == "resource":
            return self.resource(spec, value, path, depth)
        if not _has_json_kind(value, spec.kind):
            fhir_type = f" ({spec.fhir_type})" if spec.fhir_type != spec.kind else ""
            self.report(path, f"'{spec.name}' must be a JSON {spec.kind}{fhir_type}, "
                              f"not {_json_kind(value)} {_show(value)}".rstrip())
            if not isinstance(value, (str, bool, int, float)):
                self.fatal = True  # an array or object where a primitive belongs: fhir.resources may crash on it
        elif spec.fhir_type == "id" and len(value) > ID_MAX_LENGTH:
            self.report(path, f"'{spec.name}' is longer than {ID_MAX_LENGTH} characters", "value")

    def resource(self, spec: _Field, value, path: str, depth: int) -> None:
        if not isinstance(value, dict):
            self.fatal = True
            return self.report(path, f"'{spec.name}' must be a JSON object holding a resource, not {_json_kind(value)}")
        resource_type = value.get("resourceType")
        model = _resource_model(resource_type) if isinstance(resource_type, str) else None
        if model is None:
            self.fatal = True  # fhir.resources raises KeyError/TypeError on these
            shown = "no resourceType" if resource_type is None else f"an unknown resourceType {_show(resource_type)}"
            return self.report(f"{path}.resourceType", f"The resource in '{spec.name}' has {shown}")
        self.walk_resource(value, _fields(model), path, depth)


def _has_extension(element) -> bool:
    """A required primitive may be absent when its `_x` twin explains why (data-absent-reason)."""
    return isinstance(element, dict) and bool(element.get("extension"))


def _has_json_kind(value, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)  # number


# --- pass 2: the R4B model --------------------------------------------------------------------------

# errors the shape pass reports better (with the element path); fhir.resources words them per model
_COVERED_MESSAGES = ("None is not allowed as an element", "Any of one field value is expected",
                     "Expect any of field value from this list")
_FORMATS = {
    "date": "YYYY, YYYY-MM or YYYY-MM-DD",
    "dateTime": "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.sss] with a time zone (Z or +hh:mm)",
    "instant": "YYYY-MM-DDThh:mm:ss[.sss] with a time zone (Z or +hh:mm)",
    "time": "hh:mm:ss[.sss]",
    "id": "1 to 64 characters among A-Z a-z 0-9 - .",
    "code": "a non-empty string without leading, trailing or double spaces",
    "decimal": "a JSON number",
    "base64Binary": "base64 data",
    "oid": "urn:oid:1.2.3",
    "uuid": "urn:uuid:…",
}


def _model_issues(body: dict, model: type, resource_type: str, reported: set[str]) -> list[Issue]:
    try:
        model.model_validate(body)
    except pydantic.ValidationError as error:
        details = error.errors(include_url=False)
    except Exception as error:  # noqa: BLE001 - fhir.resources must never turn bad input into a 500
        if reported:
            return []  # the shape pass has already said what is wrong
        return [Issue(f"The resource could not be validated ({type(error).__name__})", "structure",
                      "error", [resource_type])]
    else:
        return []
    issues = []
    for detail in details:
        if any(text in detail["msg"] for text in _COVERED_MESSAGES):
            continue
        raw_path, spec = _locate(body, model, resource_type, detail["loc"])
        if _covered(raw_path, reported):
            continue
        reported.add(raw_path)
        issues.append(_model_issue(detail, spec, raw_path))
    return issues


def _locate(body: dict, model: type, resource_type: str, loc: tuple) -> tuple[str, _Field | None]:
    """The JSON path of a pydantic location: drops what is not an element ('root', union branches)."""
    path, node, table, spec = resource_type, body, _fields(model), None
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            if spec is not None and spec.kind == "resource":
                table = _table_of(node)
            continue
        if table is not None and part in table.by_name:
            spec = table.by_name[part]
        elif isinstance(node, dict) and part in node:
            spec = None  # an element the model does not know
        else:
            continue
        path += f".{part}"
        node = node.get(part) if isinstance(node, dict) else None
        table = _fields(spec.model) if spec and spec.kind == "object" else (
            _table_of(node) if spec and spec.kind == "resource" else None)
    return path, spec


def _table_of(node) -> _Fields | None:
    resource_type = node.get("resourceType") if isinstance(node, dict) else None
    model = _resource_model(resource_type) if isinstance(resource_type, str) else None
    return _fields(model) if model else None


def _covered(raw_path: str, reported: set[str]) -> bool:
    """Whether this path, or an element above it, was already reported."""
    if raw_path in reported:
        return True
    return any(raw_path[:i] in reported for i, char in enumerate(raw_path) if char in ".[")


def _model_issue(detail: dict, spec: _Field | None, raw_path: str) -> Issue:
    kind, value = detail["type"], detail.get("input")
    name = raw_path.rsplit(".", 1)[-1].split("[")[0]
    if kind in ("missing", "model_field_validation.missing"):
        return Issue(f"'{name}' is required", "required", "error", [_fhirpath(raw_path)])
    message = detail["msg"].removeprefix("Value error, ")
    if spec is not None and spec.kind not in ("object", "resource") and isinstance(value, (str, int, float)):
        text = f"Invalid {spec.fhir_type} {_show(value)} in '{name}'"
        expected = _FORMATS.get(spec.fhir_type)
        text += f": expected {expected}" if expected else f": {message}"
        return Issue(text, "value", "error", [_fhirpath(raw_path)])
    return Issue(f"'{name}': {message}", "structure", "error", [_fhirpath(raw_path)])


# --- helpers ----------------------------------------------------------------------------------------

def _fhirpath(raw_path: str) -> str:
    """`Patient._birthDate.extension` → `Patient.birthDate.extension`: in FHIRPath a primitive's
    id and extensions are children of the primitive."""
    if "._" not in raw_path:
        return raw_path
    return raw_path.replace("._", ".")


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _show(value) -> str:
    """A short rendering of a scalar for diagnostics; nothing for long or structured values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= 40 else ""
    if isinstance(value, str):
        return f"'{_short(value)}'"
    return ""


def _short(text: str, limit: int = 64) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
