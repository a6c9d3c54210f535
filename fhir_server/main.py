"""The composition root: create_app(settings) wires store, tokens, capability and routes. No I/O at import."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool

from .api import errors as api_errors
from .api.routes import request_id, router
from .access.acl import ACL_INDEXES, COMMON_ACL_INDEXES
from .access.matrix import load_matrix
from .audit.writer import AuditWriter
from .auth.tokens import TokenService
from .capability import capability_statement
from .config import Settings
from .fhir_types import SUPPORTED_TYPES
from .search.indexes import index_declarations
from .services.notifications import notify_hidden_documents, notify_lapsed_documents
from .storage.mongo import MongoStore, now_ms


def open_store(settings: Settings) -> MongoStore:
    store = MongoStore.connect(settings.mongodb_uri, settings.db)
    store.ensure_indexes({t: index_declarations(t) + ACL_INDEXES.get(t, []) + COMMON_ACL_INDEXES
                          for t in SUPPORTED_TYPES})
    return store


NOTICE_INTERVAL_SECONDS = 900


@asynccontextmanager
async def notices_every_quarter_hour(app: FastAPI):
    """The 14-day notices (notifications.py) are sent at start and then every 15 minutes."""
    async def loop():
        while True:
            await run_in_threadpool(notify_hidden_documents, app.state.store, app.state.settings, now_ms())
            await run_in_threadpool(notify_lapsed_documents, app.state.store, app.state.settings, now_ms())
            await asyncio.sleep(NOTICE_INTERVAL_SECONDS)
    task = asyncio.create_task(loop())
    yield
    task.cancel()


def create_app(settings: Settings | None = None, *, store: MongoStore | None = None,
               background_jobs: bool = False) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title="dmp-fhir-server", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=notices_every_quarter_hour if background_jobs else None)
    app.state.settings = settings
    load_matrix(settings.access_matrix_file)     # a malformed access matrix stops the server here, not in a request
    app.state.store = store or open_store(settings)
    app.state.audit = AuditWriter(app.state.store)
    app.state.tokens = TokenService(settings)
    app.state.capability = capability_statement()
    api_errors.install(app)
    app.include_router(router)

    @app.middleware("http")
    async def tag_request(request: Request, call_next):
        request.state.request_id = request_id(request)
        response = await call_next(request)
        response.headers["X-Request-Id"] = request.state.request_id
        return response

    return app
