"""From (method, path, query) to an Interaction: https://hl7.org/fhir/R4/http.html#summary

Used for HTTP requests and for Bundle entries (`request.method` + `request.url`) alike.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import BadRequest, MethodNotAllowed, NotFound
from ..fhir_types import SUPPORTED_TYPES
from .context import Interaction

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")

# (number of segments, shape) -> {method: kind}
_ROUTES: dict[str, dict[str, str]] = {
    "": {"GET": "search-system", "POST": "bundle"},
    "_history": {"GET": "history-system"},
    "_search": {"POST": "search-system"},
    "metadata": {"GET": "capabilities"},
    "$": {"GET": "operation", "POST": "operation"},
    "T": {"GET": "search-type", "POST": "create", "PUT": "update", "DELETE": "delete", "PATCH": "patch"},
    "T/_search": {"POST": "search-type"},
    "T/_history": {"GET": "history-type"},
    "T/$": {"GET": "operation", "POST": "operation"},
    "T/id": {"GET": "read", "PUT": "update", "DELETE": "delete", "PATCH": "patch"},
    "T/id/_history": {"GET": "history-instance"},
    "T/id/_history/v": {"GET": "vread"},
    "T/id/$": {"GET": "operation", "POST": "operation"},
    "Patient/id/T": {"GET": "search-type"},
}


def parse_url(method: str, url: str) -> Interaction:
    """A relative URL as found in Bundle.entry.request.url, e.g. `Patient?identifier=x`."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    return route(method, parts.path, params)


def route(method: str, path: str, params: list[tuple[str, str]]) -> Interaction:
    segments = [unquote(s) for s in path.strip("/").split("/") if s]
    shape, fields = _shape(segments)
    kinds = _ROUTES.get(shape)
    if kinds is None:
        raise NotFound(f"no FHIR endpoint at '{path}'")
    kind = kinds.get(method.upper())
    if kind is None:
        raise MethodNotAllowed(f"{method.upper()} is not allowed on '{path}'")
    interaction = Interaction(kind=kind, method=method.upper(), params=list(params), **fields)
    if kind in ("update", "delete", "patch") and interaction.id is None and not params:
        raise BadRequest(f"conditional {kind} needs search parameters in the URL")
    return interaction


def _shape(segments: list[str]) -> tuple[str, dict]:
    if not segments:
        return "", {}
    head = segments[0]
    if len(segments) == 1 and head in ("_history", "_search", "metadata"):
        return head, {}
    if len(segments) == 1 and head.startswith("$"):
        return "$", {"operation": head[1:]}
    _check_type(head)
    fields: dict = {"resource_type": head}
    rest = segments[1:]
    if not rest:
        return "T", fields
    if len(rest) == 1 and rest[0] in ("_search", "_history"):
        return "T/" + rest[0], fields
    if len(rest) == 1 and rest[0].startswith("$"):
        return "T/$", {**fields, "operation": rest[0][1:]}
    fields["id"] = _check_id(rest[0])
    tail = rest[1:]
    if not tail:
        return "T/id", fields
    if tail == ["_history"]:
        return "T/id/_history", fields
    if len(tail) == 2 and tail[0] == "_history":
        return "T/id/_history/v", {**fields, "version": tail[1]}
    if len(tail) == 1 and tail[0].startswith("$"):
        return "T/id/$", {**fields, "operation": tail[0][1:]}
    if len(tail) == 1 and head == "Patient":
        # the Patient compartment: https://hl7.org/fhir/R4/compartmentdefinition-patient.html
        _check_type(tail[0])
        return "Patient/id/T", {"resource_type": tail[0], "compartment": fields["id"]}
    return "unknown", fields


def _check_type(name: str) -> None:
    if name not in SUPPORTED_TYPES:
        raise NotFound(f"unknown or unsupported resource type '{name}'", code="not-supported")


def _check_id(value: str) -> str:
    if not ID_PATTERN.match(value):
        raise BadRequest(f"invalid resource id '{value[:80]}' (1-64 of A-Z a-z 0-9 - .)")
    return value
