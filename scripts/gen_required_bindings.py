#!/usr/bin/env python3
"""Generate fhir_server/definitions/required-bindings.json from the FHIR R4 StructureDefinitions.

fhir.resources does not check required bindings, so the server checks them itself
(fhir_server/validation/bindings.py). The snapshots are 4.8 MB; this script keeps only what that
check needs, per resource type:

- ``bindings``: element path -> value set URL (version stripped) of every element of type ``code``,
  ``Coding`` or ``CodeableConcept`` with a **required** binding; a choice element ``value[x]`` is
  written once per bound type with its JSON name (``valueCode``, ``valueCodeableConcept`` ...);
- ``contentReferences``: element path -> the element whose definition it reuses
  (``Consent.provision.provision`` -> ``Consent.provision``), so nested elements are checked too;
- ``resourceElements``: elements holding a whole resource (``contained``, ``Bundle.entry.resource``),
  checked with the bindings of that resource's own type.

Usage: python scripts/gen_required_bindings.py [STRUCTURE_DEFINITIONS_JSON] [OUTPUT_JSON]
(defaults: ../shared/fhir-r4/structure-definitions.json, fhir_server/definitions/required-bindings.json)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "fhir-r4" / "structure-definitions.json"
DEFAULT_TARGET = REPO / "fhir_server" / "definitions" / "required-bindings.json"
CODED_TYPES = ("code", "Coding", "CodeableConcept")


def _type_codes(element: dict) -> list[str]:
    return [t.get("code", "") for t in element.get("type", [])]


def _bound_paths(element: dict) -> list[str]:
    """The JSON paths this element's required binding applies to (one per coded choice type)."""
    path, types = element["path"], _type_codes(element)
    if not path.endswith("[x]"):
        return [path] if any(t in CODED_TYPES for t in types) else []
    stem = path[:-3]
    return [stem + t[0].upper() + t[1:] for t in types if t in CODED_TYPES]


def extract(structure_definition: dict) -> dict:
    bindings: dict[str, str] = {}
    content_refs: dict[str, str] = {}
    resource_elements: list[str] = []
    for element in structure_definition["snapshot"]["element"]:
        binding = element.get("binding") or {}
        if binding.get("strength") == "required" and binding.get("valueSet"):
            paths = _bound_paths(element)
            if not paths:
                print(f"  skipped (not a coded type): {element['path']} {_type_codes(element)}", file=sys.stderr)
            for path in paths:
                bindings[path] = binding["valueSet"].split("|")[0]
        if element.get("contentReference"):
            content_refs[element["path"]] = element["contentReference"].lstrip("#")
        if "." in element["path"] and _type_codes(element) == ["Resource"]:
            resource_elements.append(element["path"])
    return {"bindings": dict(sorted(bindings.items())),
            "contentReferences": dict(sorted(content_refs.items())),
            "resourceElements": sorted(resource_elements)}


def generate(source: Path) -> dict:
    bundle = json.loads(source.read_text(encoding="utf-8"))
    types = {}
    for entry in bundle["entry"]:
        sd = entry["resource"]
        if sd.get("kind") == "resource" and sd.get("snapshot"):
            types[sd["type"]] = extract(sd)
    return {
        "about": "Required bindings of coded elements, per resource type, extracted from the FHIR R4 (4.0.1) "
                 "StructureDefinitions (HL7, CC0) by scripts/gen_required_bindings.py; do not edit by hand.",
        "types": dict(sorted(types.items())),
    }


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    target = Path(argv[2]) if len(argv) > 2 else DEFAULT_TARGET
    data = generate(source)
    target.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    count = sum(len(t["bindings"]) for t in data["types"].values())
    print(f"wrote {target} ({len(data['types'])} types, {count} bound elements)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
