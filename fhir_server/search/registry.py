"""The search parameters this server supports, one registry for routing, compiling, index extraction,
index declaration and the CapabilityStatement (nothing is listed twice).

Sources (fhir_server/definitions/):
- `search-parameters.json`: the R4 standard SearchParameters whose base is one of our types;
- `search-parameters-custom.json`: IHE MHD `creation` and the ANS PDSm `isArchived`, `period-start`,
  `period-end`; they are published as-is in `capability/SearchParameter-<id>.json` (see `publish_custom`).
Chains advertised for MHD (`patient.identifier`, `author.given`, `author.family`) are the `chain` of the
standard `patient` / `author` parameters, resolved at search time (chain.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from fhir_server.fhir_types import SUPPORTED_TYPES
from fhir_server.search.expressions import CompiledExpression, compile_expression
from fhir_server.search.types import TYPES
from fhir_server.search.types.base import ExtractContext

DEFINITIONS = Path(__file__).resolve().parent.parent / "definitions"
CAPABILITY_DIR = Path(__file__).resolve().parent.parent.parent / "capability"

# recognised but not offered: a clear 400 ("not supported") rather than "unknown parameter"
UNSUPPORTED = frozenset({"_text", "_content", "_query", "_filter", "_list", "_containedType", "_contained"})
# chains we advertise (CapabilityStatement) on top of the generic chaining every reference supports
ADVERTISED_CHAINS = {
    ("DocumentReference", "patient"): ("identifier",),
    ("DocumentReference", "subject"): ("identifier",),
    ("DocumentReference", "author"): ("given", "family", "identifier"),
}


@dataclass(frozen=True)
class SearchParam:
    code: str
    type: str
    expression: str | None
    url: str
    description: str = ""
    base: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    modifiers: tuple[str, ...] = ()
    comparators: tuple[str, ...] = ()
    chain: tuple[str, ...] = ()
    components: tuple[tuple[str, str], ...] = ()       # (definition url, expression)
    custom: bool = False
    definition: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def field(self) -> str:
        """Where its values live in a stored document."""
        return "_id" if self.code == "_id" else f"_idx.{self.code}"


@dataclass(frozen=True)
class Indexer:
    """How one parameter's index value is extracted from one resource type."""
    param: SearchParam
    expression: CompiledExpression
    context: ExtractContext

    def extract(self, resource: dict) -> dict | None:
        nodes = self.expression(resource)
        return TYPES[self.param.type].extract(nodes, self.context) if nodes else None


def _modifiers(kind: str, targets: tuple[str, ...]) -> tuple[str, ...]:
    mods = set(TYPES[kind].MODIFIERS) if kind in TYPES else {"missing"}
    if kind == "reference":
        mods.discard("[type]")
        mods |= set(targets)
    return tuple(sorted(mods))


# R4 4.0.1 publishes DocumentReference-relationship with its two component expressions swapped
# (relatesto ← "code", relation ← "target"); we read them the right way round.
SWAPPED_COMPONENTS = {"http://hl7.org/fhir/SearchParameter/DocumentReference-relationship"}


def _components(res: dict) -> tuple[tuple[str, str], ...]:
    comps = [(c["definition"], c["expression"]) for c in res.get("component") or ()]
    if res["url"] in SWAPPED_COMPONENTS and len(comps) == 2:
        comps = [(comps[0][0], comps[1][1]), (comps[1][0], comps[0][1])]
    return tuple(comps)


def _param(res: dict, resource_type: str, custom: bool) -> SearchParam:
    targets = tuple(res.get("target") or ())
    return SearchParam(
        code=res["code"], type=res["type"], expression=res.get("expression"), url=res["url"],
        description=res.get("description", ""), base=tuple(res.get("base") or ()), targets=targets,
        modifiers=_modifiers(res["type"], targets), comparators=tuple(res.get("comparator") or ()),
        chain=ADVERTISED_CHAINS.get((resource_type, res["code"]), tuple(res.get("chain") or ())),
        components=_components(res),
        custom=custom, definition=res)


def _bundle(name: str) -> list[dict]:
    return [e["resource"] for e in json.loads((DEFINITIONS / name).read_text())["entry"]]


class SearchRegistry:
    def __init__(self, standard: list[dict], custom: list[dict], elements: dict):
        self._by_type: dict[str, dict[str, SearchParam]] = {t: {} for t in SUPPORTED_TYPES}
        self._by_url: dict[str, dict] = {}
        self._code_systems: dict[str, str] = elements.get("code_systems", {})
        self.summary_elements: dict[str, list[str]] = elements.get("summary", {})
        self.mandatory_elements: dict[str, list[str]] = elements.get("mandatory", {})
        known = set(SUPPORTED_TYPES)
        for res, is_custom in [(r, False) for r in standard] + [(r, True) for r in custom]:
            self._by_url[res["url"]] = res
            known |= set(res.get("target") or ())
            if not res.get("expression") or res["code"] in UNSUPPORTED:
                continue
            for base in res.get("base") or ():
                for rtype in (SUPPORTED_TYPES if base in ("Resource", "DomainResource") else [base]):
                    if rtype in self._by_type:
                        self._by_type[rtype][res["code"]] = _param(res, rtype, is_custom)
        self.known_types = frozenset(known)
        self._indexers: dict[str, list[Indexer]] = {}

    def params_for(self, resource_type: str) -> dict[str, SearchParam]:
        return self._by_type.get(resource_type, {})

    def get(self, resource_type: str, code: str) -> SearchParam | None:
        return self._by_type.get(resource_type, {}).get(code)

    def definition(self, url: str) -> dict | None:
        return self._by_url.get(url)

    def custom_parameters(self) -> list[dict]:
        """The SearchParameter resources we define (published in capability/)."""
        seen, out = set(), []
        for params in self._by_type.values():
            for p in params.values():
                if p.custom and p.url not in seen:
                    seen.add(p.url)
                    out.append(p.definition)
        return sorted(out, key=lambda d: d["id"])

    def component_kinds(self, param: SearchParam) -> tuple[str, ...]:
        return tuple(self._by_url[url]["type"] for url, _ in param.components)

    def indexers(self, resource_type: str) -> list[Indexer]:
        """The extraction plan of a type, compiled once (expressions cached)."""
        if resource_type not in self._indexers:
            self._indexers[resource_type] = [self._indexer(resource_type, p)
                                             for p in self.params_for(resource_type).values() if p.code != "_id"]
        return self._indexers[resource_type]

    def _indexer(self, resource_type: str, param: SearchParam) -> Indexer:
        expression = compile_expression(param.expression or "", resource_type)
        systems = {self._code_systems.get(path) for path in expression.element_paths(resource_type)}
        implicit = systems.pop() if len(systems) == 1 else None
        components = tuple((kind, compile_expression(expr, "")) for kind, (_, expr)
                           in zip(self.component_kinds(param), param.components))
        return Indexer(param, expression, ExtractContext(param.code, None, implicit, components))


@cache
def registry() -> SearchRegistry:
    return SearchRegistry(_bundle("search-parameters.json"), _bundle("search-parameters-custom.json"),
                          json.loads((DEFINITIONS / "elements.json").read_text()))


def publish_custom(directory: Path = CAPABILITY_DIR) -> list[Path]:
    """Write each custom SearchParameter to capability/SearchParameter-<id>.json (the published artefacts)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for definition in registry().custom_parameters():
        path = directory / f"SearchParameter-{definition['id']}.json"
        path.write_text(json.dumps(definition, indent=2, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths
