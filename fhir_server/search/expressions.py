"""FHIRPath expressions of search parameters, evaluated at write time.

Almost every R4 search expression is a union (`|`) of simple paths, some with a filter
(`.where(resolve() is Patient)`, `.where(system='email')`) or a type cast (`(Observation.value as Quantity)`).
Those are compiled here into plain Python walks over the JSON (about 1 µs each, 20-80x faster
than fhirpathpy); anything else falls back to fhirpathpy with the R4 model (`resolve()` is not
available there, which is why the `where(resolve() is X)` form is handled here by the reference's type).

An evaluated expression yields `Node(value, fhir_type)`: `fhir_type` is known for choice elements
(`valueQuantity` → "Quantity") and otherwise None; the parameter types infer the rest from the value's shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple

_ELEMENTS = Path(__file__).resolve().parent.parent / "definitions" / "elements.json"
_CHOICES = frozenset(json.loads(_ELEMENTS.read_text())["choice_elements"])


class Node(NamedTuple):
    value: Any
    fhir_type: str | None = None


def _node(value: Any, fhir_type: str | None) -> Node:
    """Node(value, fhir_type) without NamedTuple's Python-level constructor (half the cost)."""
    return tuple.__new__(Node, (value, fhir_type))


Evaluator = Callable[[dict], list[Node]]

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_STEP_RE = re.compile(
    rf"(?P<ident>{_IDENT})"
    rf"|where\(resolve\(\) is (?P<resolve>{_IDENT})\)"
    rf"|where\((?P<key>{_IDENT})\s*=\s*'(?P<literal>[^']*)'\)"
    rf"|(?:as|ofType)\((?P<cast>{_IDENT})\)"
)
_TRUTHY_RE = re.compile(rf"^(?P<path>{_IDENT}(?:\.{_IDENT})*)\.exists\(\) and (?P=path) != false$")
_CAST_RE = re.compile(rf"^\((?P<path>[^()]+) as (?P<type>{_IDENT})\)(?P<rest>.*)$")


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split on `separator` outside quotes and parentheses."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == separator:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _split_union(expression: str) -> list[str]:
    return [p.strip() for p in _split_top_level(expression, "|") if p.strip()]


def _split_steps(path: str) -> list[str]:
    return _split_top_level(path, ".")


def _children(node: Node, name: str) -> Iterable[Node]:
    value = node.value
    if not isinstance(value, dict):
        return ()
    found = value.get(name)
    if found is not None:
        return [Node(v) for v in found] if isinstance(found, list) else [Node(found)]
    if name not in _CHOICES:
        return ()
    out = []
    for key, found in value.items():   # a choice element: value → valueQuantity, valueString …
        if key.startswith(name) and len(key) > len(name) and key[len(name)].isupper():
            type_name = _PRIMITIVE_CHOICES.get(key[len(name):], key[len(name):])
            out.extend(Node(v, type_name) for v in (found if isinstance(found, list) else [found]))
    return out


_PRIMITIVE_CHOICES = {
    "String": "string", "Boolean": "boolean", "Integer": "integer", "Decimal": "decimal", "Uri": "uri",
    "Url": "url", "Canonical": "canonical", "Code": "code", "Date": "date", "Instant": "instant",
    "Time": "time", "Id": "id", "Oid": "oid", "Uuid": "uuid", "Markdown": "markdown",
    "Base64Binary": "base64Binary", "PositiveInt": "positiveInt", "UnsignedInt": "unsignedInt",
    "DateTime": "dateTime",
}


def _walk(resource: dict, steps: tuple["_Step", ...]) -> list:
    """The values a path of plain element names and filters reaches, through arrays: what `_Step.apply` gives
    step after step, without a Node per intermediate value (every write extracts dozens of paths)."""
    return _walker(steps)(resource)


@lru_cache(maxsize=None)
def _walker(steps: tuple["_Step", ...]) -> Callable[[dict], list]:
    """`_walk` of these steps as one Python function, compiled once: nested loops over the JSON, one per child step
    (a walk step after step builds a list per step and costs 3-5x as much; a trace extracts a dozen of them).
    Depth first gives the values in the order a walk level by level does: each level keeps its parents' order.
    Only element names and the two filters reach the source, as literals (`repr`), never as code."""
    lines, pad, value = ["def walk(resource):", "    out = []"], "    ", "resource"
    for position, step in enumerate(steps):
        if step.kind == "child":
            found, each = f"found{position}", f"value{position}"
            lines += [f"{pad}if isinstance({value}, dict):",
                      f"{pad}    {found} = {value}.get({step.a!r})",
                      f"{pad}    if {found} is not None:",
                      f"{pad}        for {each} in ({found} if isinstance({found}, list) else ({found},)):"]
            pad, value = pad + " " * 12, each
        elif step.kind == "resolve":
            lines.append(f"{pad}if reference_type({value}) == {step.a!r}:")
            pad += "    "
        elif step.kind == "where":
            lines.append(f"{pad}if isinstance({value}, dict) and {value}.get({step.a!r}) == {step.b!r}:")
            pad += "    "
        else:
            raise ValueError(f"a {step.kind} step is not walked")     # casts need the Nodes' types
    lines += [f"{pad}out.append({value})", "    return out"]
    namespace = {"reference_type": reference_type}
    exec("\n".join(lines), namespace)       # noqa: S102 - source built above from literals only
    return namespace["walk"]


def reference_type(value: Any) -> str | None:
    """The resource type a Reference points to (from `reference`, else `type`), or None."""
    if not isinstance(value, dict):
        return None
    ref = value.get("reference")
    if isinstance(ref, str):
        named = _type_named(ref) if len(ref) <= REMEMBERED_LENGTH else _type_named.__wrapped__(ref)
        if named is not None:
            return named
    return value.get("type")


REMEMBERED_LENGTH = 256     # longer references are not remembered: the memo's size stays bounded in bytes too


@lru_cache(maxsize=65_536)
def _type_named(ref: str) -> str | None:
    """The type a reference's text names ("Patient/x", a URL ending in it, a version of it); None for another.
    Remembered: the same references come back in every trace and every document of a patient."""
    if "/" in ref:
        parts = ref.split("/_history/")[0].rstrip("/").split("/")
        if len(parts) >= 2:
            return parts[-2]
    return None


def _same_type(actual: str | None, wanted: str) -> bool:
    return actual is not None and actual.lower() == wanted.lower()


@dataclass(frozen=True)
class _Step:
    kind: str      # "child", "resolve", "where", "cast"
    a: str = ""
    b: str = ""

    def apply(self, nodes: list[Node]) -> list[Node]:
        if self.kind == "child":
            return [c for n in nodes for c in _children(n, self.a)]
        if self.kind in ("resolve", "where"):
            return [n for n in nodes if self.keeps(n.value)]
        return [n for n in nodes if _same_type(n.fhir_type, self.a)]   # cast

    def keeps(self, value: Any) -> bool:
        """Whether a resolve or where filter keeps this value (neither looks at a choice type)."""
        if self.kind == "resolve":
            return reference_type(value) == self.a
        return isinstance(value, dict) and value.get(self.a) == self.b


def _parse_simple(part: str, resource_type: str) -> list[_Step] | None:
    """The steps of a simple path, or None when the part needs full FHIRPath."""
    cast = _CAST_RE.match(part)
    steps_text: list[str]
    tail: list[str] = []
    if cast:
        steps_text = _split_steps(cast["path"].strip()) + [f"as({cast['type']})"]
        rest = cast["rest"]
        if rest:
            if not rest.startswith("."):
                return None
            tail = _split_steps(rest[1:])
    else:
        steps_text = _split_steps(part)
    if steps_text and steps_text[0] in (resource_type, "Resource", "DomainResource"):
        steps_text = steps_text[1:]
    steps = []
    for text in steps_text + tail:
        m = _STEP_RE.fullmatch(text.strip())
        if not m:
            return None
        if m["ident"]:
            if m["ident"][0].isupper():
                return None
            steps.append(_Step("child", m["ident"]))
        elif m["resolve"]:
            steps.append(_Step("resolve", m["resolve"]))
        elif m["key"]:
            steps.append(_Step("where", m["key"], m["literal"]))
        else:
            steps.append(_Step("cast", m["cast"]))
    return steps


def _path_of(steps: list[_Step]) -> str:
    return ".".join(s.a for s in steps if s.kind == "child")


def _truthy(steps: list[_Step]) -> Evaluator:
    """`X.exists() and X != false` (Patient.deceased): true when X is there and not the boolean false."""
    def evaluate(resource: dict) -> list[Node]:
        nodes = [Node(resource)]
        for step in steps:
            nodes = step.apply(nodes)
        return [Node(any(n.value is not False for n in nodes))]
    return evaluate


def _fhirpath(part: str) -> Evaluator:
    from fhirpathpy import compile as fp_compile
    from fhirpathpy.models import models
    compiled = fp_compile(part, models["r4"])

    def evaluate(resource: dict) -> list[Node]:
        try:
            return [Node(v) for v in compiled(resource)]
        except Exception:   # an expression error must not block a write: the value is just not indexed
            return []
    return evaluate


@dataclass(frozen=True)
class CompiledExpression:
    """A search expression for one resource type, as simple walks plus fhirpathpy fallbacks."""
    simple: tuple[tuple[str, tuple[_Step, ...]], ...]    # (element path, steps)
    fallback: tuple[Evaluator, ...]

    def __call__(self, resource: dict) -> list[Node]:
        out: list[Node] = []
        for (_, steps), first, walk in self._plan:
            if first is not None and first not in resource:
                continue            # most parameters have no value in a given resource: skip cheaply
            if walk is not None:
                out.extend([_node(value, None) for value in walk(resource)])
                continue
            nodes = [Node(resource)]
            for step in steps:
                nodes = step.apply(nodes)
                if not nodes:
                    break
            out.extend(nodes)
        for evaluate in self.fallback:
            out.extend(evaluate(resource))
        return out

    @cached_property
    def _plan(self) -> tuple[tuple[tuple, str | None, Callable[[dict], list] | None], ...]:
        """For each simple path: its first element name when a resource without it has no value there (None for a
        choice element or a path that starts with a filter), and its walk over the JSON values when it has one:
        child steps none of which is a choice element, and resolve or where filters (a cast, or a choice, needs
        the Nodes' types)."""
        plan = []
        for path in self.simple:
            steps = path[1]
            first = steps[0].a if steps and steps[0].kind == "child" and steps[0].a not in _CHOICES else None
            walked = bool(steps) and all(s.kind in ("resolve", "where") or (s.kind == "child" and s.a not in _CHOICES)
                                         for s in steps)
            plan.append((path, first, _walker(steps) if walked else None))
        return tuple(plan)

    def element_paths(self, resource_type: str) -> list[str]:
        return [f"{resource_type}.{path}" for path, _ in self.simple if path]


@lru_cache(maxsize=None)
def compile_expression(expression: str, resource_type: str) -> CompiledExpression:
    """Keep the union parts that apply to `resource_type` and compile each one once."""
    simple, fallback = [], []
    for part in _split_union(expression):
        head = part.lstrip("(").split(".")[0].split(" ")[0]
        if head[:1].isupper() and head not in (resource_type, "Resource", "DomainResource"):
            continue
        steps = _parse_simple(part, resource_type)
        truthy = _TRUTHY_RE.match(part)
        if truthy and (path_steps := _parse_simple(truthy["path"], resource_type)) is not None:
            fallback.append(_truthy(path_steps))
        elif steps is None:
            fallback.append(_fhirpath(part))
        else:
            simple.append((_path_of(steps), tuple(steps)))
    return CompiledExpression(tuple(simple), tuple(fallback))
