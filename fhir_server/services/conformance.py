"""The server's conformance artefacts as read-only resources: `GET [base]/OperationDefinition/{id}`,
`[base]/SearchParameter?url=…` and the like (https://hl7.org/fhir/R4/http.html#read, #search).

The CapabilityStatement names its OperationDefinitions, SearchParameters and profiles by canonical URL;
integrators (and HAPI's validator and client) resolve them at the server. They are the published files of
capability/ and profiles/, hold no patient data, and so are public like `/metadata`: no token is needed and
any token is ignored (HAPI serves them the same way); they are not traced, as no record is touched.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import orjson

from ..errors import BadRequest, MethodNotAllowed, NotFound
from ..search import bundle

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = (ROOT / "capability", ROOT / "profiles", ROOT / "profiles" / "terminology")
CONFORMANCE_TYPES = ("CodeSystem", "OperationDefinition", "SearchParameter", "StructureDefinition", "ValueSet")
SEARCH_PARAMS = ("_id", "url", "name", "status")
IGNORED = ("_format", "_pretty")


@lru_cache(maxsize=1)
def artefacts() -> dict[tuple[str, str], dict]:
    found = {}
    for directory in SOURCES:
        for path in sorted(directory.glob("*.json")):
            resource = orjson.loads(path.read_bytes())
            if resource.get("resourceType") in CONFORMANCE_TYPES:
                found[(resource["resourceType"], resource["id"])] = resource
    return found


def is_conformance_path(path: str) -> bool:
    return path.strip("/").split("/", 1)[0] in CONFORMANCE_TYPES


def conformance(method: str, path: str, params: list[tuple[str, str]], base_url: str) -> dict:
    """The resource (read) or searchset Bundle (search) that `method path?params` asks for."""
    parts = path.strip("/").split("/")
    if method != "GET":
        raise MethodNotAllowed(f"{parts[0]} resources are the server's published artefacts: read and search only")
    if len(parts) == 2:
        resource = artefacts().get((parts[0], parts[1]))
        if resource is None:
            raise NotFound(f"{parts[0]}/{parts[1]} is not one of the server's artefacts")
        return resource
    if len(parts) != 1:
        raise NotFound(f"{path}: only read and search are served for {parts[0]}", code="not-supported")
    return _search(parts[0], [(k, v) for k, v in params if k not in IGNORED], base_url)


def _search(resource_type: str, params: list[tuple[str, str]], base_url: str) -> dict:
    unknown = [k for k, _ in params if k not in SEARCH_PARAMS]
    if unknown:
        raise BadRequest(f"Unknown search parameter '{unknown[0]}' for {resource_type} (supported: "
                         f"{', '.join(SEARCH_PARAMS)})", expression=unknown[0], code="not-supported")
    matches = [r for (t, _), r in artefacts().items() if t == resource_type and _matches(r, params)]
    entries = [bundle.entry(base_url, r, "match") for r in matches]
    return bundle.searchset(entries, len(entries), [("self", bundle.link(base_url, resource_type, params, None))])


def _matches(resource: dict, params: list[tuple[str, str]]) -> bool:
    for name, value in params:
        wanted = value.split(",")
        if name == "_id" and resource["id"] not in wanted:
            return False
        if name == "url" and resource.get("url") not in [w.split("|")[0] for w in wanted]:
            return False
        if name == "name" and not any(str(resource.get("name", "")).lower().startswith(w.lower()) for w in wanted):
            return False
        if name == "status" and resource.get("status") not in wanted:
            return False
    return True
