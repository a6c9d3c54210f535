"""The searchset Bundle: entries (match, include, outcome), links, and `_summary` / `_elements` subsetting.

https://hl7.org/fhir/R4/search.html#summary and #elements: a subsetted resource carries the SUBSETTED tag.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fhir_server.errors import Issue, operation_outcome
from fhir_server.search.registry import registry

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED",
             "display": "subsetted"}
ALWAYS = ("resourceType", "id", "meta")


def _tagged(resource: dict, keep: set[str]) -> dict:
    out = {k: v for k, v in resource.items() if k in keep or k in ALWAYS}
    meta = dict(out.get("meta") or {})
    meta["tag"] = [t for t in meta.get("tag", []) if t.get("code") != "SUBSETTED"] + [SUBSETTED]
    out["meta"] = meta
    return out


def _choice_names(resource: dict, names: set[str]) -> set[str]:
    """`deceased` in the definitions is `deceasedBoolean` / `deceasedDateTime` in JSON."""
    return {k for k in resource if k in names or any(k.startswith(n) and k[len(n):][:1].isupper() for n in names)}


def subset(resource: dict, summary: str | None, elements: list[str] | None) -> dict:
    """The resource as `_summary` / `_elements` ask (the stored dict is never modified)."""
    rtype = resource.get("resourceType", "")
    reg = registry()
    mandatory = set(reg.mandatory_elements.get(rtype, []))
    if summary == "true":
        return _tagged(resource, _choice_names(resource, set(reg.summary_elements.get(rtype, [])) | mandatory))
    if summary == "text":
        return _tagged(resource, _choice_names(resource, {"text"} | mandatory))
    if summary == "data":
        return _tagged(resource, set(resource) - {"text"})
    if elements:
        return _tagged(resource, _choice_names(resource, set(elements) | mandatory))
    return resource


def entry(base_url: str, resource: dict, mode: str) -> dict:
    return {"fullUrl": f"{base_url}/{resource['resourceType']}/{resource['id']}", "resource": resource,
            "search": {"mode": mode}}


def outcome_entry(issues: list[Issue]) -> dict:
    """The OperationOutcome is not stored, so its fullUrl is a fresh urn:uuid (bdl-7 wants every entry named)."""
    return {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": operation_outcome(issues), "search": {"mode": "outcome"}}


def link(base_url: str, resource_type: str | None, params: list[tuple[str, str]], page: str | None,
         ignored: frozenset = frozenset()) -> str:
    """The link of a page; `ignored` (name, value) pairs (or (name, None): every value) are what a lenient
    search left out, so the self link says what was actually searched."""
    query = [(k, v) for k, v in params if k != "_page" and (k, None) not in ignored and (k, v) not in ignored]
    query += [("_page", page)] if page else []
    path = f"{base_url}/{resource_type}" if resource_type else base_url
    return f"{path}?{urlencode(query)}" if query else path


def searchset(entries: list[dict], total: int | None, links: list[tuple[str, str]]) -> dict:
    bundle: dict = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = [{"relation": rel, "url": url} for rel, url in links]
    return with_entries(bundle, entries)


def with_entries(bundle: dict, entries: list[dict]) -> dict:
    """FHIR forbids empty arrays (ele-1): a Bundle without entries has no `entry` at all."""
    if entries:
        bundle["entry"] = entries
    return bundle
