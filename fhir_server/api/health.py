"""Probes for an orchestrator, outside /fhir and without a token: they reveal no data, only the state.

- GET /healthz: the process answers (liveness; it touches nothing else, so a database outage does not get
  the process restarted for nothing);
- GET /readyz: the database answers a ping and holds every declared index (readiness: send traffic here).
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..errors import ServiceUnavailable

health_router = APIRouter()


@health_router.get("/healthz")
async def healthz(request: Request) -> Response:
    request.state.interaction = "healthz"
    return _json({"status": "alive"}, 200)


@health_router.get("/readyz")
async def readyz(request: Request) -> Response:
    request.state.interaction = "readyz"
    store = request.app.state.store
    try:
        await run_in_threadpool(store.ping)
        missing = await run_in_threadpool(store.missing_indexes)
    except ServiceUnavailable as e:
        return _json({"status": "unavailable", "database": e.diagnostics}, 503)
    if missing:
        return _json({"status": "unavailable", "database": "reachable", "missing_indexes": missing}, 503)
    return _json({"status": "ready", "database": "reachable", "store": store.kind}, 200)


def _json(body: dict, status: int) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})
