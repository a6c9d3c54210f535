"""From an HTTP request to an Interaction: body, content type, conditional headers, Prefer."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request

from ..errors import BadRequest, NotAcceptable, UnsupportedMediaType
from ..services.context import Interaction
from ..services.routing import route
from .body import parse_body, read_body

JSON_TYPES = ("application/fhir+json", "application/json", "application/json-patch+json")
FORM = "application/x-www-form-urlencoded"
FORMAT_PARAMS = ("_format", "_pretty")
JSON_FORMATS = ("json", "application/json", "application/fhir+json", "application/json+fhir")


async def interaction_from(request: Request, path: str) -> Interaction:
    params = [(k, v) for k, v in request.query_params.multi_items()]
    _check_format(params, request.headers.get("accept", ""))
    params = [(k, v) for k, v in params if k not in FORMAT_PARAMS]
    it = route(request.method, path, params)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    settings = request.app.state.settings
    raw = await read_body(request, settings.max_body_bytes)
    if it.kind in ("search-type", "search-system") and request.method == "POST":
        it.params += _form_params(raw, media_type)
    elif raw:
        if media_type not in JSON_TYPES:
            raise UnsupportedMediaType(f"request bodies must be application/fhir+json, not '{media_type or 'none'}'")
        it.body = parse_body(raw, settings)
        it.content_type = media_type
    elif it.kind in ("create", "update", "patch", "bundle"):
        raise BadRequest(f"{it.kind} needs a request body")
    it.if_match = request.headers.get("if-match")
    it.if_none_exist = request.headers.get("if-none-exist")
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
    return [v.strip() for v in request.headers.get("prefer", "").replace(";", ",").split(",") if v.strip()]


def _form_params(raw: bytes, media_type: str) -> list[tuple[str, str]]:
    if not raw:
        return []
    if media_type != FORM:
        raise UnsupportedMediaType(f"_search parameters in a body must be {FORM}")
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise BadRequest("the _search body is not UTF-8") from None


def _check_format(params: list[tuple[str, str]], accept: str) -> None:
    for key, value in params:
        if key == "_format" and value.split(";")[0].strip() not in JSON_FORMATS:
            raise NotAcceptable(f"only JSON is served (_format={value})")
    wanted = [a.split(";")[0].strip() for a in accept.split(",") if a.strip()]
    if wanted and not any(w in JSON_FORMATS or w.endswith("/*") or w == "*/*" for w in wanted):
        raise NotAcceptable(f"only JSON is served (Accept: {accept})")
