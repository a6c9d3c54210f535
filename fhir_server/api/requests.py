"""From an HTTP request to an Interaction: body, content type, conditional headers, Prefer."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request

from ..errors import BadRequest, UnsupportedMediaType
from ..services.context import Interaction
from ..services.routing import route
from ..limits import check_json_shape
from .body import parse_body, read_body
from .formats import is_xml, parse_xml
from .headers import headers_of

JSON_TYPES = ("application/fhir+json", "application/json", "application/json-patch+json")
FORM = "application/x-www-form-urlencoded"
FORMAT_PARAMS = ("_format", "_pretty")


async def interaction_from(request: Request, path: str) -> Interaction:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in FORMAT_PARAMS] \
        if request.scope.get("query_string") else []        # a read has none: Starlette's parse costs ~1 % of it
    it = route(request.method, path, params)
    media_type = headers_of(request).get("content-type", "").split(";")[0].strip().lower()
    settings = request.app.state.settings
    raw = await read_body(request, settings.max_body_bytes)
    if it.kind in ("search-type", "search-system") and request.method == "POST":
        it.params += _form_params(raw, media_type)
    elif raw and is_xml(media_type):
        it.body = parse_xml(raw)  # the services speak JSON only
        check_json_shape(it.body, settings.max_json_depth, settings.max_json_array)
    elif raw:
        if media_type not in JSON_TYPES:
            raise UnsupportedMediaType("request bodies must be application/fhir+json or application/fhir+xml, "
                                       f"not '{media_type or 'none'}'")
        it.body = parse_body(raw, settings)
        it.content_type = media_type
    elif it.kind in ("create", "update", "patch", "bundle"):
        raise BadRequest(f"{it.kind} needs a request body")
    headers = headers_of(request)
    it.if_match = headers.get("if-match")
    it.if_none_exist = headers.get("if-none-exist")
    it.lenient = "handling=lenient" in prefer_values(request)
    return it


def prefer_return(request: Request) -> str:
    for value in prefer_values(request):
        if value.startswith("return="):
            wanted = value.split("=", 1)[1].strip('"')
            if wanted in ("minimal", "representation", "OperationOutcome"):
                return wanted
    return "representation"


def prefer_values(request: Request) -> list[str]:
    return [v.strip() for v in headers_of(request).get("prefer", "").replace(";", ",").split(",") if v.strip()]


def _form_params(raw: bytes, media_type: str) -> list[tuple[str, str]]:
    if not raw:
        return []
    if media_type != FORM:
        raise UnsupportedMediaType(f"_search parameters in a body must be {FORM}")
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise BadRequest("the _search body is not UTF-8") from None
