"""The two PATCH body formats: RFC 6902 JSON Patch and FHIRPath Patch.

    apply_json_patch(resource, patch, limits)            application/json-patch+json
    apply_fhirpath_patch(resource, parameters, limits)   a Parameters resource (fhirpatch.html)

Both work on a deep copy and return it (the input is never touched) and raise only
FhirError subclasses: a malformed patch is BadRequest (400), a well-formed patch that
does not fit the resource is Unprocessable (422), and a patch that changes `id` or
`resourceType` is BadRequest. Structural validation of the result is the caller's job.

Both are bounded (PatchLimits): at most `max_operations` operations (400 too-costly), and a result of at
most `max_result_bytes` as JSON, checked while applying, before each JSON Patch `copy` (which can double the
resource: thirty of them from a 1.5 kB patch would make gigabytes) and after every operation (422 too-long).

FHIRPath Patch locates nodes with fhirpathpy in "raw data" mode: every result is a
ResourceNode whose `data` is the very object of our copy and whose `propName` is its
concrete location (`Patient.name[0].given[1]`). We turn `propName` into steps, check
that the steps lead to that same object, and fall back to an identity search for
complex nodes that functions such as `extension(url)` return without a location, and,
for a path ending in `.name`, to locating its parent and taking the `name` child.
Whether an element repeats, and the type of a value given as parts, come from the
fhir.resources R4B models.
"""

from __future__ import annotations

import copy
import functools
import re
import types
import typing
from dataclasses import dataclass

import jsonpatch
import jsonpointer
import orjson
from antlr4 import CommonTokenStream, InputStream, Token
from antlr4.error.ErrorListener import ErrorListener
from fhir.resources.R4B import get_fhir_model_class
from fhirpathpy import evaluate
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

from ..errors import BadRequest, FhirError, Unprocessable

Step = tuple[str, int | None]          # (JSON key, list index or None)
MiB = 1024 * 1024
Location = tuple[Step, ...]            # steps from the resource root


def _fhir_errors_only(func):
    # Callers rely on "FhirError or a result": anything unforeseen in odd input (deep
    # recursion, a library quirk) still becomes a 422 instead of a 500.
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except FhirError:
            raise
        except Exception as exc:  # noqa: BLE001 - deliberate safety net
            raise Unprocessable(f"The patch could not be applied: {type(exc).__name__}: {exc}") from exc
    return wrapper


def _copy_resource(resource: object) -> dict:
    if not isinstance(resource, dict):
        raise BadRequest("The resource to patch must be a JSON object")
    return copy.deepcopy(resource)


@dataclass(frozen=True)
class PatchLimits:
    max_operations: int = 100
    max_result_bytes: int = MiB

    def check_count(self, count: int) -> None:
        if count > self.max_operations:
            raise BadRequest(f"The patch has {count} operations (at most {self.max_operations})", code="too-costly")

    def check_size(self, size: int, label: str) -> int:
        if size > self.max_result_bytes:
            raise Unprocessable(f"{label}: the patched resource would be larger than {self.max_result_bytes} "
                                "bytes", code="too-long")
        return size

    def checked_size(self, doc: object, label: str) -> int:
        """The size of `doc` as JSON, refused beyond the limit."""
        return self.check_size(len(orjson.dumps(doc)), label)


def _check_identity(before: dict, after: object) -> dict:
    if not isinstance(after, dict):
        raise BadRequest("The patch must leave a resource (a JSON object)")
    for key in ("resourceType", "id"):
        if after.get(key) != before.get(key):
            raise BadRequest(f"A patch may not change '{key}'",
                             expression=f"{before.get('resourceType')}.{key}")
    return after


# --------------------------------------------------------------------------- JSON Patch

@_fhir_errors_only
def apply_json_patch(resource: dict, patch: object, limits: PatchLimits = PatchLimits()) -> dict:
    doc = _copy_resource(resource)
    ops = _json_patch_ops(patch, limits)
    size = len(orjson.dumps(doc))
    for label, compiled in ops:
        compiled = _copy_as_add(doc, compiled, label, limits, size)
        doc = _apply_json_op(doc, label, compiled)
        size = limits.checked_size(doc, label)
    return _check_identity(resource, doc)


def _copy_as_add(doc: object, compiled: jsonpatch.JsonPatch, label: str, limits: PatchLimits,
                 size: int) -> jsonpatch.JsonPatch:
    """A `copy` is measured before it is made, then made as the `add` of its value (RFC 6902 §4.5):
    a JSON round trip copies a large value many times faster than jsonpatch's deepcopy."""
    op = compiled.patch[0]
    if op.get("op") != "copy":
        return compiled
    try:
        value = orjson.dumps(jsonpointer.resolve_pointer(doc, op["from"]))
    except (jsonpointer.JsonPointerException, KeyError, TypeError):
        return compiled    # no such source: applying the copy reports it
    limits.check_size(size + len(value), label)
    return jsonpatch.JsonPatch([{"op": "add", "path": op["path"], "value": orjson.loads(value)}])


def _json_patch_ops(patch: object, limits: PatchLimits) -> list[tuple[str, jsonpatch.JsonPatch]]:
    """Validate every operation before applying any, so a malformed patch is always a 400."""
    if not isinstance(patch, list) or not all(isinstance(op, dict) for op in patch):
        raise BadRequest("A JSON Patch must be a JSON array of operation objects")
    limits.check_count(len(patch))
    ops = []
    for i, op in enumerate(copy.deepcopy(patch)):  # copy: added values must not alias the caller's patch
        label = f"JSON Patch operation {i} ({op.get('op')!r} at {op.get('path')!r})"
        if not isinstance(op.get("from", ""), str):  # jsonpatch only checks 'path' up front
            raise BadRequest(f"{label} is malformed: 'from' must be a JSON pointer string")
        try:
            ops.append((label, jsonpatch.JsonPatch([op])))
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise BadRequest(f"{label} is malformed: {exc}") from exc
    return ops


def _apply_json_op(doc: object, label: str, compiled: jsonpatch.JsonPatch) -> object:
    try:
        return compiled.apply(doc, in_place=True)
    except jsonpatch.InvalidJsonPatch as exc:  # e.g. no 'value' / 'from': only seen at apply time
        raise BadRequest(f"{label} is malformed: {exc}") from exc
    except jsonpatch.JsonPatchTestFailed as exc:
        raise Unprocessable(f"{label}: test failed: {exc}") from exc
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise Unprocessable(f"{label} cannot be applied: {exc}") from exc


# --------------------------------------------------------------- FHIRPath Patch: parsing

_PART_NAMES = {"type", "path", "name", "value", "index", "source", "destination"}
_REQUIRED = {
    "add": ("path", "name", "value"),
    "insert": ("path", "value", "index"),
    "delete": ("path",),
    "replace": ("path", "value"),
    "move": ("path", "source", "destination"),
}


@dataclass(frozen=True)
class _Op:
    type: str
    path: str
    at: str                   # where in the Parameters, for error messages
    name: str | None = None
    value: dict | None = None  # the whole `value` part: built once the target type is known
    index: int | None = None
    source: int | None = None
    destination: int | None = None


def _parse_operations(parameters: object, limits: PatchLimits) -> list[_Op]:
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise BadRequest("A FHIRPath Patch body must be a Parameters resource")
    entries = parameters.get("parameter", [])
    if not isinstance(entries, list):
        raise BadRequest("Parameters.parameter must be an array", expression="Parameters.parameter")
    limits.check_count(len(entries))
    return [_parse_operation(entry, f"Parameters.parameter[{i}]") for i, entry in enumerate(entries)]


def _parse_operation(entry: object, at: str) -> _Op:
    if not isinstance(entry, dict) or entry.get("name") != "operation":
        raise BadRequest("Each parameter of a FHIRPath Patch must be named 'operation'", expression=at)
    parts = _parts_by_name(entry.get("part"), at)
    op_type = _primitive(parts.get("type"), str)
    if op_type not in _REQUIRED:
        raise BadRequest(f"Unknown FHIRPath Patch operation type {op_type!r}", expression=at)
    missing = [name for name in _REQUIRED[op_type] if name not in parts]
    if missing:
        raise BadRequest(f"'{op_type}' operation lacks part(s) {', '.join(missing)}", expression=at)
    fields = {name: _primitive(parts.get(name), str) for name in ("path", "name")}
    fields |= {name: _primitive(parts.get(name), int) for name in ("index", "source", "destination")}
    for name in _REQUIRED[op_type]:
        if name != "value" and fields[name] in (None, ""):
            raise BadRequest(f"Part '{name}' of the '{op_type}' operation has no valid value", expression=at)
    _check_syntax(fields["path"])
    if "value" in _REQUIRED[op_type]:
        _check_value(parts["value"], at)
    return _Op(op_type, fields["path"], at, fields["name"], parts.get("value"),
               fields["index"], fields["source"], fields["destination"])


def _parts_by_name(parts: object, at: str) -> dict[str, dict]:
    if not isinstance(parts, list):
        raise BadRequest("An operation needs a 'part' array", expression=at)
    by_name: dict[str, dict] = {}
    for part in parts:
        name = part.get("name") if isinstance(part, dict) else None
        if name not in _PART_NAMES or name in by_name:
            raise BadRequest(f"Unknown or repeated operation part {name!r}", expression=at)
        by_name[name] = part
    return by_name


def _check_value(part: dict, at: str) -> None:
    """A value part holds exactly one of: a value[x], a resource, or named sub-parts."""
    value_keys = [k for k in part if k.startswith("value") and len(k) > len("value")]
    subs = part.get("part")
    kinds = len(value_keys) + ("resource" in part) + ("part" in part)
    if kinds != 1 or (subs is not None and not (isinstance(subs, list) and subs)):
        raise BadRequest(f"Part '{part.get('name')}' needs exactly one value[x], resource or "
                         "non-empty part list", expression=at)
    for sub in subs or []:
        if not isinstance(sub, dict) or not isinstance(sub.get("name"), str) or not sub["name"]:
            raise BadRequest("Every part of a complex value needs a name", expression=at)
        _check_value(sub, at)


class _RaiseOnSyntaxError(ErrorListener):
    def syntaxError(self, recognizer, offendingSymbol, line, column, msg, e):
        raise ValueError(f"column {column}: {msg}")


@functools.lru_cache(maxsize=1024)
def _syntax_error(path: str) -> str | None:
    # fhirpathpy's parser silently recovers from syntax errors ('Patient..name' acts as
    # 'Patient.name'): a patch must not guess, so parse strictly with the same grammar first.
    lexer = FHIRPathLexer(InputStream(path))
    parser = FHIRPathParser(CommonTokenStream(lexer))
    for recognizer in (lexer, parser):
        recognizer.removeErrorListeners()
        recognizer.addErrorListener(_RaiseOnSyntaxError())
    try:
        parser.expression()
        if parser.getCurrentToken().type != Token.EOF:
            return f"unexpected {parser.getCurrentToken().text!r} after the expression"
    except Exception as exc:  # noqa: BLE001 - lexer and parser raise various types
        return str(exc)
    return None


def _check_syntax(path: str) -> None:
    error = _syntax_error(path)
    if error:
        raise BadRequest(f"Invalid FHIRPath expression: {error}", expression=path)


def _primitive(part: dict | None, kind: type) -> object:
    """The value[x] of a part if it has the wanted Python type (bool is not an int here)."""
    for key, value in (part or {}).items():
        if key.startswith("value") and isinstance(value, kind) and not isinstance(value, bool):
            return value
    return None


# ---------------------------------------------------------- FHIRPath Patch: the values

def _value(part: dict, owner: type | None, name: str) -> tuple[str, object]:
    """The JSON key and value that `part` puts under `name` in an element of class `owner`.

    The key differs from `name` only for choice elements (value[x]): `deceased` given a
    valueDateTime is stored as `deceasedDateTime`.
    """
    for key in part:  # _check_value made sure there is exactly one kind of value
        if key.startswith("value") and len(key) > len("value"):
            return _choice_key(owner, name, key[len("value"):]), copy.deepcopy(part[key])
    if "resource" in part:
        return name, copy.deepcopy(part["resource"])
    return name, _build(part["part"], _field_shape(owner, name)[1])


def _build(parts: list, cls: type | None) -> dict:
    """A complex value given as parts, one part per element (repeated names make a list)."""
    obj: dict = {}
    for sub in parts:
        key, value = _value(sub, cls, sub["name"])
        if key in obj or _field_shape(cls, key)[0]:
            previous = obj.get(key, [])
            obj[key] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            obj[key] = value
    return obj


# ------------------------------------------------------ model info from fhir.resources

@functools.lru_cache(maxsize=None)
def _resource_class(resource_type: object) -> type | None:
    try:
        return get_fhir_model_class(resource_type)
    except Exception:  # noqa: BLE001 - unknown type: we just lose cardinality info
        return None


@functools.lru_cache(maxsize=None)
def _fields(cls: type | None) -> dict:
    if cls is None:
        return {}
    return {info.alias or name: info for name, info in cls.model_fields.items()}


@functools.lru_cache(maxsize=None)
def _field_shape(cls: type | None, key: str) -> tuple[bool | None, type | None]:
    """(repeating?, element model class) of element `key` of `cls`; (None, None) if unknown."""
    info = _fields(cls).get(key)
    if info is None:
        return None, None
    repeating, hint = False, info.annotation
    while True:  # peel Optional[...], List[...] and Annotated[...] off the annotation
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is list:
            repeating, hint = True, args[0]
        elif origin in (typing.Union, types.UnionType):
            hint = next(a for a in args if a is not type(None))
        elif origin is typing.Annotated:
            hint = args[0]
        else:
            break
    getter = getattr(hint, "get_model_klass", None)
    return repeating, (getter() if getter else None)


def _choice_key(cls: type | None, name: str, value_type: str) -> str:
    fields = _fields(cls)
    info = fields.get(name)
    extra = (info.json_schema_extra or {}) if info else {}
    base = extra.get("one_of_many") if info else name  # `deceasedBoolean` → `deceased`
    candidate = f"{base}{value_type}" if base else None
    return candidate if candidate in fields else name


def _model_class(doc: dict, location: Location) -> type | None:
    """Model class of the element at `location` (contained resources switch class)."""
    cls, node = _resource_class(doc.get("resourceType")), doc
    for key, index in location:
        node = node.get(key) if isinstance(node, dict) else None
        node = node[index] if index is not None and isinstance(node, list) else node
        if isinstance(node, dict) and "resourceType" in node:
            cls = _resource_class(node["resourceType"])
        else:
            cls = _field_shape(cls, key)[1]
    return cls


# ------------------------------------------------------- FHIRPath Patch: locating nodes

_R4 = models["r4"]
_SEGMENT = re.compile(r"([A-Za-z][A-Za-z0-9]*)(?:\[(\d+)\])?")
_MEMBER = re.compile(r"(.+)\.([A-Za-z][A-Za-z0-9]*)")  # 'prefix.name': a path ending in a plain member


def _select(doc: dict, path: str) -> list[Location]:
    """Locations of the elements `path` selects, one per element (value and `_value` merged)."""
    try:
        nodes = evaluate(doc, path, {}, _R4, {"returnRawData": True})
    except Exception as exc:  # noqa: BLE001 - fhirpathpy raises bare Exceptions
        # Syntax was checked when parsing the Parameters: this is a function fhirpathpy lacks
        # (resolve()) or a type error on this resource's data.
        raise Unprocessable(f"FHIRPath evaluation failed: {exc}", expression=path) from exc
    locations = [_locate(doc, node) if isinstance(node, ResourceNode) else None for node in nodes]
    if None in locations:
        locations = _select_by_parent(doc, path)
    return list(dict.fromkeys(_canonical(location) for location in locations))


def _select_by_parent(doc: dict, path: str) -> list[Location]:
    """Fallback for `X.name` when fhirpathpy lost the location of the results (a primitive
    under `extension(url)`): locate the parents `X`, then take their `name` children."""
    match = _MEMBER.fullmatch(path.strip())
    if not match:
        raise Unprocessable(f"'{path}' selects something that is not an element of the "
                            "resource (a computed value, or an unsupported function)", expression=path)
    locations = []
    for parent in _select(doc, match.group(1)):
        container = _get(doc, parent)
        key = _actual_key(container, match.group(2)) if isinstance(container, dict) else None
        value = container.get(key) if key else None
        if isinstance(value, list):
            locations += [parent + ((key, i),) for i in range(len(value))]
        elif value is not None:
            locations.append(parent + ((key, None),))
    return locations


def _locate(doc: dict, node: ResourceNode) -> Location | None:
    if node.data is doc:
        return ()
    location = _from_prop_name(doc, node.propName)
    if location is not None and _get(doc, location) is node.data:
        return location
    return _find(doc, node.data, ()) if isinstance(node.data, dict) else None


def _from_prop_name(doc: dict, prop_name: str | None) -> Location | None:
    """'Patient.name[0].given[1]' → (('name', 0), ('given', 1)); None if it does not fit."""
    segments = (prop_name or "").split(".")
    if segments[0] != doc.get("resourceType"):  # e.g. 'Extension.value': no path from the root
        return None
    node, location = doc, []
    for segment in segments[1:]:
        match = _SEGMENT.fullmatch(segment)
        if not match or not isinstance(node, dict):
            return None
        key = _actual_key(node, match.group(1))
        index = int(match.group(2)) if match.group(2) else None
        node = node.get(key)
        if index is not None:
            if not isinstance(node, list) or index >= len(node):
                return None
            node = node[index]
        location.append((key, index))
    return tuple(location)


def _actual_key(node: dict, name: str) -> str:
    # fhirpathpy names choice elements without their type suffix: `deceased` is `deceasedBoolean`.
    if name in node:
        return name
    return next((k for k in node if k.startswith(name) and k[len(name):][:1].isupper()), name)


def _find(node: object, target: dict, location: Location) -> Location | None:
    """Identity search, for complex nodes fhirpathpy returns without a usable propName."""
    if node is target:
        return location
    if isinstance(node, dict):
        for step, child in _children(node):
            found = _find(child, target, location + (step,))
            if found is not None:
                return found
    return None


def _children(node: dict):
    for key, value in node.items():
        if isinstance(value, list):  # FHIR JSON never nests arrays directly
            yield from (((key, i), item) for i, item in enumerate(value))
        else:
            yield (key, None), value


def _canonical(location: Location) -> Location:
    # `_birthDate` holds the id/extensions of `birthDate`: both are one FHIR element.
    if location and location[-1][0].startswith("_"):
        key, index = location[-1]
        return location[:-1] + ((key[1:], index),)
    return location


def _get(doc: dict, location: Location) -> object:
    node: object = doc
    for key, index in location:
        node = node.get(key) if isinstance(node, dict) else None
        if index is not None:
            node = node[index] if isinstance(node, list) and index < len(node) else None
    return node


def _select_one(doc: dict, op: _Op, path: str | None = None) -> Location:
    path = path or op.path
    locations = _select(doc, path)
    if len(locations) != 1:
        raise Unprocessable(f"{op.type}: '{path}' must select exactly one element, "
                            f"it selects {len(locations)}", expression=path)
    return locations[0]


def _list_parent(doc: dict, op: _Op) -> tuple[Location, dict, str]:
    """For insert / move: the single element holding the list `op.path` names, and its key."""
    match = _MEMBER.fullmatch(op.path.strip())
    if not match:
        raise Unprocessable(f"{op.type}: '{op.path}' must end with the name of a list element",
                            expression=op.path)
    location = _select_one(doc, op, match.group(1))
    container = _get(doc, location)
    if not isinstance(container, dict):
        raise Unprocessable(f"{op.type}: '{match.group(1)}' is not a complex element", expression=op.path)
    return location, container, match.group(2)


# -------------------------------------------------------- FHIRPath Patch: the operations

def _add(doc: dict, op: _Op) -> None:
    location = _select_one(doc, op)
    container = _get(doc, location)
    if not isinstance(container, dict):
        raise Unprocessable(f"add: '{op.path}' is not a complex element", expression=op.path)
    cls = _model_class(doc, location)
    key, value = _value(op.value, cls, op.name)
    if not location and key in ("id", "resourceType"):
        raise BadRequest(f"A patch may not change '{key}'", expression=op.path)
    existing = container.get(key)
    if isinstance(existing, list):
        existing.append(value)
    elif existing is not None:
        raise Unprocessable(f"add: '{op.path}.{key}' already exists and does not repeat; use replace",
                            expression=op.path)
    else:
        container[key] = [value] if _field_shape(cls, key)[0] else value


def _insert(doc: dict, op: _Op) -> None:
    location, container, key = _list_parent(doc, op)
    cls = _model_class(doc, location)
    items = container.get(key, [] if _field_shape(cls, key)[0] is not False else None)
    if not isinstance(items, list):
        raise Unprocessable(f"insert: '{op.path}' is not a list", expression=op.path)
    if not 0 <= op.index <= len(items):
        raise Unprocessable(f"insert: index {op.index} is outside 0..{len(items)}", expression=op.path)
    items.insert(op.index, _value(op.value, cls, key)[1])
    container[key] = items


def _delete(doc: dict, op: _Op) -> None:
    locations = _select(doc, op.path)
    if not locations:
        return  # the spec: deleting an element that is not there is not an error
    if len(locations) > 1:
        raise Unprocessable(f"delete: '{op.path}' selects {len(locations)} elements; "
                            "only one can be deleted", expression=op.path)
    if not locations[0]:
        raise BadRequest("delete: the resource itself cannot be deleted by a patch", expression=op.path)
    parent, (key, index) = _get(doc, locations[0][:-1]), locations[0][-1]
    if index is None:
        parent.pop(key, None)
        parent.pop(f"_{key}", None)
        return
    for sibling in (key, f"_{key}"):  # keep a primitive list and its `_` twin aligned
        items = parent.get(sibling)
        if isinstance(items, list) and index < len(items):
            items.pop(index)
        if items == []:
            del parent[sibling]  # FHIR JSON has no empty arrays


def _replace(doc: dict, op: _Op) -> None:
    location = _select_one(doc, op)
    if not location:
        raise BadRequest("replace: the resource itself cannot be replaced by a patch", expression=op.path)
    parent, (key, index) = _get(doc, location[:-1]), location[-1]
    new_key, value = _value(op.value, _model_class(doc, location[:-1]), key)
    if index is not None:
        parent[key][index] = value
        return
    if new_key != key:  # a choice element changing type: deceasedBoolean → deceasedDateTime
        parent.pop(key, None)
        parent.pop(f"_{key}", None)
    parent[new_key] = value


def _move(doc: dict, op: _Op) -> None:
    _, container, key = _list_parent(doc, op)
    items = container.get(key)
    size = len(items) if isinstance(items, list) else 0
    if not (0 <= op.source < size and 0 <= op.destination < size):
        raise Unprocessable(f"move: source {op.source} / destination {op.destination} outside "
                            f"the {size} elements of '{op.path}'", expression=op.path)
    items.insert(op.destination, items.pop(op.source))


_APPLY = {"add": _add, "insert": _insert, "delete": _delete, "replace": _replace, "move": _move}


@_fhir_errors_only
def apply_fhirpath_patch(resource: dict, parameters: object, limits: PatchLimits = PatchLimits()) -> dict:
    doc = _copy_resource(resource)
    for op in _parse_operations(parameters, limits):
        _APPLY[op.type](doc, op)
        limits.checked_size(doc, f"FHIRPath Patch {op.at} ({op.type} at {op.path!r})")
    return _check_identity(resource, doc)
