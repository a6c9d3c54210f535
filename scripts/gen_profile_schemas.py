#!/usr/bin/env python3
"""Generate profiles/schemas/<Type>.schema.json (JSON Schema 2020-12) from the profiles' StructureDefinitions.

The structural check (fhir_server/validation/structure.py) already enforces the base FHIR types; a profile
schema holds only what the profile adds, and fhir_server/validation/profiles.py turns its errors into
OperationOutcome issues. The StructureDefinitions are the source: edit them, then run

    python scripts/gen_profile_schemas.py [FHIR_R4_JSON_SCHEMA]   # default ../shared/fhir-r4/fhir.schema.json

(the official R4 JSON Schema only tells which elements repeat and what type they hold). The same schemas go
into fhir_server/definitions/profile-schemas.json, the package data the server loads.

What a differential may say, and what it becomes (anything else stops the script, so that no rule is
written in a profile without being enforced):

- ``min >= 1``                       the element is ``required`` in its parent (a slice: the array ``contains`` one);
                                     ``x-required`` keeps its ``short`` for the issue
- ``max`` n on a repeating element   ``maxItems`` (a slice: ``maxContains``)
- ``type.targetProfile``             on a Reference: ``reference`` must point to those resource types
- ``binding`` to a ValueSet of profiles/terminology/, ``required`` or ``extensible``, on a code, Coding or
  CodeableConcept: a coding whose system the value set draws from must carry one of its codes; ``required``
  also demands a coding from the value set in every CodeableConcept (and is not supported on a Coding);
  other bindings, or bindings to value sets we do not hold, are documentation (a required one stops the script)
- ``constraint`` whose expression is ``X.where(system in ('a' | 'b')).exists()`` or ``a.exists() or b.exists()``
- extension slices (by url): the slice's rules apply to the extensions with that url; a slice typed with one
  of our Extension profiles gets that profile's rules
- ``fixedUri`` only as the url of an extension (the slice's discriminator)
- ``slicing``, ``short``, ``sliceName``, ``path``: documentation

Each generated rule carries its human text in ``description``; ``x-issue`` names the OperationOutcome issue
code where the JSON Schema keyword alone does not tell it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROFILES = REPO / "profiles"
DEFAULT_FHIR_SCHEMA = REPO.parent / "shared" / "fhir-r4" / "fhir.schema.json"
PACKAGED = REPO / "fhir_server" / "definitions" / "profile-schemas.json"
CORE = "http://hl7.org/fhir/StructureDefinition/"
DOCUMENTATION = {"id", "path", "short", "sliceName", "slicing", "definition", "comment", "mustSupport"}
ID = r"[A-Za-z0-9\-.]{1,64}"
SYSTEMS_EXISTS = re.compile(r"^(\w+)\.where\(system in \(((?:'[^']*'(?:\s*\|\s*)?)+)\)\)\.exists\(\)$")
EITHER_EXISTS = re.compile(r"^(\w+)\.exists\(\) or (\w+)\.exists\(\)$")


class ProfileError(Exception):
    """A StructureDefinition says something this script cannot enforce."""


def load_json_dir(folder: Path, resource_type: str) -> dict[str, dict]:
    found = (json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json")))
    return {r["url"]: r for r in found if r.get("resourceType") == resource_type}


class Generator:
    def __init__(self, fhir_schema: dict):
        self.definitions = fhir_schema["definitions"]
        self.profiles = load_json_dir(PROFILES, "StructureDefinition")
        self.value_sets = load_json_dir(PROFILES / "terminology", "ValueSet")
        self.code_systems = load_json_dir(PROFILES / "terminology", "CodeSystem")

    def resource_schemas(self) -> dict[str, dict]:
        return {sd["type"]: self.resource_schema(sd) for sd in self.profiles.values() if sd["kind"] == "resource"}

    def resource_schema(self, sd: dict) -> dict:
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": sd["url"] + ".schema.json",
                  "title": sd["name"], "description": f"Generated from {sd['url']} by scripts/gen_profile_schemas.py"}
        return prune(merge(schema, self.build(sd)))

    def build(self, sd: dict) -> dict:
        root: dict = {}
        elements = sd["differential"]["element"]
        urls = {e["id"]: e["fixedUri"] for e in elements if e["id"].endswith(".url") and "fixedUri" in e}
        for element in elements:
            self.apply(root, sd, element, urls)
        return root

    # --- walking an element id ---------------------------------------------------------------------------

    def apply(self, root: dict, sd: dict, element: dict, urls: dict[str, str]) -> None:
        unknown = set(element) - DOCUMENTATION - {"min", "max", "type", "binding", "constraint", "fixedUri"}
        if unknown:
            raise ProfileError(f"{element['id']}: unsupported {sorted(unknown)}")
        parts = element["id"].split(".")
        node, fhir_type = root, sd["type"]
        for i, part in enumerate(parts[1:-1], start=1):
            node, fhir_type = self.descend(node, fhir_type, part, ".".join(parts[:i + 1]), urls)
        if len(parts) == 1:
            return self.constrain(root, element, sd["type"])
        last = parts[-1]
        if "fixedUri" in element:
            if last != "url":
                raise ProfileError(f"{element['id']}: fixedUri is only supported on an extension url")
            return
        if ":" in last:
            return self.slice(node, last, element, urls)
        name, is_array, value_type = self.child(fhir_type, last, element)
        prop = node.setdefault("properties", {}).setdefault(name, {})
        value = prop.setdefault("items", {}) if is_array else prop
        if element.get("min", 0) >= 1:
            require(node, name, element.get("short", name))
        if element.get("max", "*") != "*":
            if not is_array or element["max"] == "0":
                raise ProfileError(f"{element['id']}: max is only supported (>= 1) on a repeating element")
            prop["maxItems"] = int(element["max"])
            prop.setdefault("description", element.get("short", name))
        self.constrain(value, element, value_type)

    def descend(self, node: dict, fhir_type: str, part: str, element_id: str,
                urls: dict[str, str]) -> tuple[dict, str]:
        if ":" in part:
            name, _ = part.split(":")
            items = node.setdefault("properties", {}).setdefault(name, {}).setdefault("items", {})
            return conditional(items, url_is(self.slice_url(element_id, None, urls))), "Extension"
        name, is_array, value_type = self.child(fhir_type, part, {"id": element_id})
        prop = node.setdefault("properties", {}).setdefault(name, {})
        return (prop.setdefault("items", {}) if is_array else prop), value_type

    def child(self, fhir_type: str, name: str, element: dict) -> tuple[str, bool, str]:
        """JSON name, whether it repeats, FHIR type of an element of `fhir_type`."""
        declared = [t["code"] for t in element.get("type", [])]
        if name.endswith("[x]"):
            if len(declared) != 1:
                raise ProfileError(f"{element['id']}: a choice element needs exactly one type")
            name = name[:-3] + declared[0][0].upper() + declared[0][1:]
        spec = self.definitions[fhir_type]["properties"].get(name)
        if spec is None:
            raise ProfileError(f"{element['id']}: {fhir_type} has no element '{name}'")
        is_array = spec.get("type") == "array"
        ref = (spec.get("items") if is_array else spec).get("$ref", "")
        value_type = declared[0] if declared else ref.rsplit("/", 1)[-1]
        return name, is_array, value_type

    def slice_url(self, element_id: str, element: dict | None, urls: dict[str, str]) -> str:
        """The url an extension slice is about: its fixed url, or the url of its Extension profile."""
        name = element_id.rsplit(".", 1)[-1].split(":")[0]
        if name not in ("extension", "modifierExtension"):
            raise ProfileError(f"{element_id}: only extension slices are supported")
        if element_id + ".url" in urls:
            return urls[element_id + ".url"]
        profiles = [p for t in (element or {}).get("type", []) for p in t.get("profile", [])]
        if len(profiles) != 1:
            raise ProfileError(f"{element_id}: an extension slice needs a fixed url or one Extension profile")
        return profiles[0]

    def slice(self, node: dict, part: str, element: dict, urls: dict[str, str]) -> None:
        name, slice_name = part.split(":")
        url = self.slice_url(element["id"], element, urls)
        array = node.setdefault("properties", {}).setdefault(name, {})
        label = element.get("short", slice_name)
        if element.get("min", 0) >= 1:
            array.setdefault("allOf", []).append({"contains": url_is(url), "minContains": element["min"],
                                                  "description": f"{label} ({url}) is required", "x-issue": "required"})
        if element.get("max", "*") != "*":
            array.setdefault("allOf", []).append({"contains": url_is(url), "minContains": 0,
                                                  "maxContains": int(element["max"]),
                                                  "description": f"at most {element['max']} {label} ({url})",
                                                  "x-issue": "invariant"})
        profile = self.profiles.get(url)
        if profile is not None:
            merge(conditional(array.setdefault("items", {}), url_is(url)), self.build(profile))

    # --- what an element says about its value --------------------------------------------------------------

    def constrain(self, value: dict, element: dict, fhir_type: str) -> None:
        targets = [p for t in element.get("type", []) for p in t.get("targetProfile", [])]
        if targets:
            self.reference(value, targets)
        binding = element.get("binding")
        if binding and binding["strength"] in ("required", "extensible"):
            self.bind(value, fhir_type, binding, element["id"])
        for constraint in element.get("constraint", []):
            value.setdefault("allOf", []).append(invariant(constraint, element["id"]))

    def reference(self, value: dict, targets: list[str]) -> None:
        types = sorted({self.profiles[t]["type"] if t in self.profiles else core_type(t) for t in targets})
        alternatives = "|".join(types)
        pattern = (rf"^(?:(?:https?://\S+/)?(?:{alternatives})/{ID}(?:/_history/{ID})?"
                   r"|urn:uuid:[0-9a-fA-F\-]{36}|urn:oid:[0-2](?:\.[0-9]+)+)$")
        wanted = " or ".join(("an " if t[0] in "AEIOU" else "a ") + t for t in types)
        props = value.setdefault("properties", {})
        props["reference"] = merge(props.get("reference", {}),
                                   {"pattern": pattern, "description": f"a reference to {wanted}"})
        props["type"] = {"enum": types, "description": f"the type of {wanted}", "x-issue": "invariant"}

    def bind(self, value: dict, fhir_type: str, binding: dict, element_id: str) -> None:
        url = binding["valueSet"].split("|")[0]
        value_set = self.value_sets.get(url)
        if value_set is None:
            if binding["strength"] == "required":
                raise ProfileError(f"{element_id}: required value set {url} is not in profiles/terminology/")
            return
        codes = {inc["system"]: [c["code"] for c in inc["concept"]] for inc in value_set["compose"]["include"]}
        required = binding["strength"] == "required"
        if fhir_type == "code":
            if len(codes) != 1:
                raise ProfileError(f"{element_id}: a code binding needs a value set drawn from one code system")
            [(system, listed)] = codes.items()
            value.setdefault("allOf", []).append({"enum": listed, "description": self.code_label(system)})
        elif fhir_type == "Coding" and not required:
            self.coding_rules(value, codes)
        elif fhir_type == "CodeableConcept":
            coding = value.setdefault("properties", {}).setdefault("coding", {})
            self.coding_rules(coding.setdefault("items", {}), codes)
            if required:  # with the per-system rules above, a coding of one of these systems is one of its codes
                require(value, "coding", f"a coding from {value_set['title']}")
                coding.setdefault("allOf", []).append({
                    "contains": {"required": ["system", "code"], "properties": {"system": {"enum": list(codes)}}},
                    "x-issue": "code-invalid",
                    "description": f"needs a coding from {value_set['title']} ({describe(codes)})"})
        else:
            raise ProfileError(f"{element_id}: cannot bind a {fhir_type} with strength {binding['strength']}")

    def coding_rules(self, coding: dict, codes: dict[str, list[str]]) -> None:
        """A coding of a system the value set draws from carries one of the value set's codes of that system."""
        rules = coding.setdefault("allOf", [])
        for system, listed in codes.items():
            then = {"properties": {"code": {"enum": listed, "description": self.code_label(system)}}}
            rules.append({"if": {"properties": {"system": {"const": system}}, "required": ["system"]}, "then": then})

    def code_label(self, system: str) -> str:
        code_system = self.code_systems.get(system)
        name = code_system["title"] if code_system else system.rstrip("/").rsplit("/", 1)[-1]
        return f"a {name} code"


# --- schema fragments -------------------------------------------------------------------------------------

def invariant(constraint: dict, element_id: str) -> dict:
    expression, human = constraint["expression"], f"{constraint['human']} ({constraint['key']})"
    match = SYSTEMS_EXISTS.match(expression)
    if match:
        name, systems = match[1], re.findall(r"'([^']*)'", match[2])
        return {"properties": {name: {"contains": {"properties": {"system": {"enum": systems}}, "required": ["system"]},
                                      "description": human, "x-issue": "invariant"}}}
    match = EITHER_EXISTS.match(expression)
    if match:
        return {"anyOf": [{"required": [match[1]]}, {"required": [match[2]]}], "description": human,
                "x-issue": "invariant"}
    raise ProfileError(f"{element_id}: constraint {constraint['key']}: unsupported expression {expression!r}")


def describe(codes: dict[str, list[str]]) -> str:
    return "; ".join(f"{system}: {', '.join(listed)}" for system, listed in codes.items())


def url_is(url: str) -> dict:
    return {"properties": {"url": {"const": url}}, "required": ["url"]}


def conditional(items: dict, condition: dict) -> dict:
    """The `then` schema applied to the array items matching `condition` (created once)."""
    rules = items.setdefault("allOf", [])
    for rule in rules:
        if rule.get("if") == condition:
            return rule["then"]
    rules.append({"if": condition, "then": {}})
    return rules[-1]["then"]


def require(node: dict, name: str, text: str) -> None:
    """`name` is required in `node`; `x-required` keeps the words for the issue (no `properties` entry, which
    jsonschema would have to visit for nothing)."""
    required = node.setdefault("required", [])
    if name not in required:
        required.append(name)
    node.setdefault("x-required", {})[name] = text


def core_type(url: str) -> str:
    if not url.startswith(CORE):
        raise ProfileError(f"unknown target profile {url}: use a core type or one of profiles/")
    return url[len(CORE):]


def prune(schema):
    """Drops the empty schemas left by elements that only say they are required, and unwraps an `allOf` of
    one rule where nothing else is checked at that level, so that its words stay its own (jsonschema is slow
    at descending into subschemas: every level costs)."""
    if isinstance(schema, list):
        return [prune(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: prune(v) for k, v in schema.items()}
    out = {k: v for k, v in out.items() if not (k in ("items", "then") and v == {})}
    if "properties" in out:
        out["properties"] = {k: v for k, v in out["properties"].items() if v != {}}
        if not out["properties"]:
            del out["properties"]
    rules = out.get("allOf", [])
    if len(rules) == 1 and set(out) <= {"allOf", "items", "properties"} and not set(rules[0]) & set(out):
        del out["allOf"]
        out.update(rules[0])
    return out


def merge(a: dict, b: dict) -> dict:
    """Deep merge of two schemas (properties merged, required and allOf concatenated)."""
    for key, value in b.items():
        if key in ("required", "allOf"):
            a[key] = a.get(key, []) + [v for v in value if v not in a.get(key, [])]
        elif isinstance(value, dict) and isinstance(a.get(key), dict):
            merge(a[key], value)
        else:
            a[key] = value
    return a


def main(argv: list[str]) -> None:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_FHIR_SCHEMA
    try:
        schemas = Generator(json.loads(source.read_text(encoding="utf-8"))).resource_schemas()
    except ProfileError as error:
        sys.exit(f"gen_profile_schemas: {error}")
    target = PROFILES / "schemas"
    target.mkdir(exist_ok=True)
    for resource_type, schema in sorted(schemas.items()):
        path = target / f"{resource_type}.schema.json"
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(path.relative_to(REPO))
    PACKAGED.write_text(json.dumps(packaged(schemas), ensure_ascii=False) + "\n", encoding="utf-8")
    print(PACKAGED.relative_to(REPO))


def packaged(schemas: dict[str, dict]) -> dict:
    """The copy the server loads: package data, so that it is there however the package is installed."""
    return {"comment": "Generated by scripts/gen_profile_schemas.py; published as profiles/schemas/<Type>.schema.json",
            "schemas": dict(sorted(schemas.items()))}


if __name__ == "__main__":
    main(sys.argv)
