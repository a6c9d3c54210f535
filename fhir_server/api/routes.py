"""The HTTP surface: /fhir (every FHIR interaction through one dispatcher), /fhir/metadata, /dev/token."""

from __future__ import annotations

import uuid

import orjson

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..auth.actor import Actor
from ..errors import BadRequest, NotFound, Unauthorized
from ..services.context import Context
from ..services.dispatch import dispatch
from ..validation.structure import parse_json
from .formats import negotiate_request
from .requests import interaction_from, prefer_return
from .responses import fhir_response, render

router = APIRouter()
FHIR_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


@router.get("/fhir/metadata")
async def metadata(request: Request) -> Response:
    return fhir_response(request.app.state.capability, fmt=negotiate_request(request))


@router.post("/dev/token")
async def dev_token(request: Request) -> Response:
    """Development mode only (CONTRACT.md): the options of `dmp-fhir token` as a JSON body."""
    if not request.app.state.settings.development_mode:
        raise NotFound("/dev/token exists only in development mode")
    body = parse_json(await request.body() or b"{}")
    if not isinstance(body, dict) or not isinstance(body.get("as"), str):
        raise BadRequest('body must be a JSON object such as {"as": "Practitioner/ID", "scope": "user/*.cruds"}')
    token = request.app.state.tokens.mint(
        body["as"], scope=body.get("scope"), mode=body.get("mode") or "normal", reason=body.get("reason"),
        organization=body.get("organization"))
    return Response(orjson.dumps({"access_token": token, "token_type": "Bearer"}), media_type="application/json")


@router.api_route("/fhir", methods=FHIR_METHODS)
@router.api_route("/fhir/{path:path}", methods=FHIR_METHODS)
async def fhir(request: Request, path: str = "") -> Response:
    fmt = negotiate_request(request)  # first, so that even a 401 answers in the client's format
    actor = authenticate(request)
    it = await interaction_from(request, path)
    ctx = Context(store=request.app.state.store, settings=request.app.state.settings, actor=actor,
                  base_url=base_url(request), request_id=request.state.request_id,
                  prefer_return=prefer_return(request), audit=request.app.state.audit)
    out = await run_in_threadpool(dispatch, ctx, it)
    return render(out, ctx.base_url, ctx.prefer_return, fmt)


def authenticate(request: Request) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a Bearer token is required (Authorization: Bearer <JWT>)")
    actor = request.app.state.tokens.verify(token.strip())
    client = request.client.host if request.client else None
    return Actor(**{**actor.__dict__, "client_ip": client})


def base_url(request: Request) -> str:
    configured = request.app.state.settings.base_url
    return configured.rstrip("/") if configured else f"{str(request.base_url).rstrip('/')}/fhir"


def request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given[:64] if given.strip() else uuid.uuid4().hex
