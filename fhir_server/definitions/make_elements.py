"""Regenerate `elements.json` from the R4 StructureDefinitions (../shared/fhir-r4/structure-definitions.json).

    python -m fhir_server.definitions.make_elements /work/shared/fhir-r4/structure-definitions.json

`elements.json` holds, per resource type we serve, what search needs and nothing else:
- `summary`: top-level elements with isSummary (for `_summary=true`),
- `mandatory`: top-level elements with min >= 1 (kept by `_summary=text` and `_elements`),
- `choice_elements`: names of choice elements (`value[x]` → "value"), so a path walk looks for
  `valueQuantity` only where a choice can be,
- `code_systems`: for `code` elements with a required binding to a value set drawn from one code system,
  that system (so `gender=http://hl7.org/fhir/administrative-gender|male` matches a plain `"male"`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent


def _value_set_systems() -> dict[str, list[str]]:
    bundle = json.loads((HERE / "valuesets-required.json").read_text())
    out: dict[str, list[str]] = {}
    for entry in bundle["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "ValueSet":
            systems = [inc["system"] for inc in res.get("compose", {}).get("include", []) if "system" in inc]
            out[res["url"]] = systems
    return out


def build(structure_definitions: dict) -> dict:
    from fhir_server.fhir_types import SUPPORTED_TYPES
    vs_systems = _value_set_systems()
    result: dict = {"summary": {}, "mandatory": {}, "code_systems": {}, "choice_elements": ["value"]}
    for entry in structure_definitions["entry"]:
        sd = entry["resource"]
        for el in sd.get("snapshot", {}).get("element", []):
            if el["path"].endswith("[x]"):
                name = el["path"].rsplit(".", 1)[-1].removesuffix("[x]")
                if name not in result["choice_elements"]:
                    result["choice_elements"].append(name)
        if sd["id"] not in SUPPORTED_TYPES:
            continue
        summary, mandatory = [], []
        for el in sd["snapshot"]["element"]:
            path = el["path"]
            parts = path.split(".")
            if len(parts) == 2:
                name = parts[1].removesuffix("[x]")
                if el.get("isSummary"):
                    summary.append(name)
                if el.get("min", 0) >= 1:
                    mandatory.append(name)
            binding = el.get("binding") or {}
            codes = [t["code"] for t in el.get("type", [])]
            if binding.get("strength") == "required" and codes == ["code"]:
                systems = vs_systems.get(binding.get("valueSet", "").split("|")[0], [])
                if len(systems) == 1:
                    result["code_systems"][path] = systems[0]
        result["summary"][sd["id"]] = summary
        result["mandatory"][sd["id"]] = mandatory
    result["choice_elements"].sort()
    return result


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/fhir-r4/structure-definitions.json")
    data = build(json.loads(source.read_text()))
    (HERE / "elements.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
