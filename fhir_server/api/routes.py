"""The HTTP surface: /fhir (every FHIR interaction through one dispatcher), /fhir/metadata, /dev/token.

FHIR interactions do not go through FastAPI's router: `FhirFront`, a pure ASGI layer, hands every request
under /fhir (but GET /fhir/metadata) straight to `fhir`, which parses the interaction itself. FastAPI's router
tried each route's pattern in turn, then its exception and exit-stack middlewares wrapped the call: about a
tenth of a read, for routing that one prefix test does. Errors are answered here as the app's handlers
answer them (api/errors.py)."""

from __future__ import annotations

import orjson

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..auth.actor import Actor
from ..errors import BadRequest, FhirError, MethodNotAllowed, NotFound, Unauthorized
from ..services.conformance import conformance, is_conformance_path
from ..services.context import Context
from ..services.dispatch import dispatch
from .body import parse_body, read_body
from .errors import unexpected_response
from .formats import negotiate_request, request_format
from .headers import headers_of
from .requests import interaction_from, prefer_return
from .responses import error_response, fhir_response, render

router = APIRouter()
FHIR_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
DEV_TOKEN_OPTIONS = ("scope", "mode", "reason", "organization")


@router.get("/fhir/metadata")
async def metadata(request: Request) -> Response:
    request.state.interaction = "capabilities"
    return fhir_response(request.app.state.capability, fmt=negotiate_request(request))


@router.post("/dev/token")
async def dev_token(request: Request) -> Response:
    """Development mode only (CONTRACT.md): the options of `dmp-fhir token` as a JSON body."""
    request.state.interaction = "dev-token"
    settings = request.app.state.settings
    if not settings.development_mode:
        raise NotFound("/dev/token exists only in development mode")
    body = parse_body(await read_body(request, settings.max_body_bytes) or b"{}", settings)
    if not isinstance(body, dict) or not isinstance(body.get("as"), str):
        raise BadRequest('body must be a JSON object such as {"as": "Practitioner/ID", "scope": "user/*.cruds"}')
    for name in DEV_TOKEN_OPTIONS:
        if body.get(name) is not None and not isinstance(body[name], str):
            raise BadRequest(f"'{name}' must be a string", expression=name)
    token = request.app.state.tokens.mint(
        body["as"], scope=body.get("scope"), mode=body.get("mode") or "normal", reason=body.get("reason"),
        organization=body.get("organization"))
    return Response(orjson.dumps({"access_token": token, "token_type": "Bearer"}), media_type="application/json")


class FhirFront:
    """Every FHIR interaction, straight to `fhir`; anything else (metadata, probes, /dev/token, unknown paths and
    methods) to the FastAPI app as before."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = _fhir_path(scope) if scope["type"] == "http" else None
        if path is None or (path == "metadata" and scope["method"] == "GET"):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            if scope["method"] not in FRONT_METHODS:
                raise MethodNotAllowed("Method Not Allowed")    # what the router answered, before the token
            response = await fhir(request, path)
        except FhirError as error:
            response = error_response(error, request_format(request))
        except Exception as unexpected:  # noqa: BLE001 - never a stack trace to the client (api/errors.py)
            response = unexpected_response(request, unexpected)
        await response(scope, receive, send)


FRONT_METHODS = frozenset(FHIR_METHODS) | {"HEAD"}      # HEAD reaches `fhir` as it did through a GET route


def _fhir_path(scope) -> str | None:
    """The path after /fhir/ ("" for /fhir itself), or None outside /fhir."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    if path == "/fhir":
        return ""
    return path[6:] if path.startswith("/fhir/") else None


async def fhir(request: Request, path: str) -> Response:
    fmt = negotiate_request(request)  # first, so that even a 401 answers in the client's format
    if is_conformance_path(path):       # public artefacts, like /metadata (services/conformance.py)
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("_format", "_pretty")]
        return fhir_response(conformance(request.method, path, params, base_url(request)), fmt=fmt)
    actor = authenticate(request)
    request.state.actor = actor.reference          # for the access log (access_log.py)
    it = await interaction_from(request, path)
    request.state.interaction = f"{it.kind} ${it.operation}" if it.operation else it.kind
    request.state.resource_type = it.resource_type
    store = request.app.state.store
    ctx = Context(store=store, settings=request.app.state.settings, actor=actor,
                  base_url=base_url(request), request_id=request.state.request_id,
                  prefer_return=prefer_return(request), audit=request.app.state.audit,
                  collected=[] if store.embedded and actor.access_mode == "normal" and it.kind != "bundle" else None)
    if store.embedded:
        # the embedded store runs one request at a time under its lock, all CPU: a hop to a worker thread
        # only adds the threads' fight for the GIL (a convoy that cut reads to a tenth)
        try:
            out = dispatch(ctx, it)
        finally:        # a read's traces, stored with those of the other requests of this turn (group_commit.py)
            await request.app.state.group_commit.stored(store, ctx.collected)
    else:
        out = await run_in_threadpool(dispatch, ctx, it)
    return render(out, ctx.base_url, ctx.prefer_return, it.kind, fmt)


def authenticate(request: Request) -> Actor:
    header = headers_of(request).get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a Bearer token is required (Authorization: Bearer <JWT>)")
    actor = request.app.state.tokens.verify(token.strip())
    client = request.client.host if request.client else None
    return Actor(**{**actor.__dict__, "client_ip": client})


def base_url(request: Request) -> str:
    configured = request.app.state.settings.base_url
    if configured:
        return configured.rstrip("/")
    scope = request.scope
    key = (scope.get("scheme"), tuple(scope.get("server") or ()), scope.get("root_path", ""),
           headers_of(request).get("host"))
    known = _BASE_URLS.get(key)
    if known is None:       # Starlette builds a URL object per call: about 2 % of a read, for the same answer every time
        if len(_BASE_URLS) >= MAX_BASE_URLS:        # the Host header is the client's: a bound, not a policy
            _BASE_URLS.clear()
        known = _BASE_URLS[key] = f"{str(request.base_url).rstrip('/')}/fhir"
    return known


MAX_BASE_URLS = 1_000
_BASE_URLS: dict[tuple, str] = {}      # (scheme, server, root path, Host) -> the FHIR base it gives

