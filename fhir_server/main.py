"""The composition root: create_app(settings) wires store, tokens, capability and routes. No I/O at import."""

from __future__ import annotations

import asyncio
import inspect
import logging
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from .api import errors as api_errors
from .api.access_log import ACCESS_LOG, LineBatches, RequestLog
from .api.group_commit import GroupCommit
from .api.health import health_router
from .api.routes import FhirFront, router
from .access.acl import ACL_INDEXES, COMMON_ACL_INDEXES
from .access.matrix import load_matrix
from .audit.writer import AuditWriter
from .auth.tokens import TokenService
from .capability import capability_statement
from .config import Settings
from .fhir_types import SUPPORTED_TYPES
from .search.indexes import index_declarations
from .services.jobs import process_holder, run_if_leader
from .services.notifications import notify_hidden_documents, notify_lapsed_documents
from .storage.mongo import MongoStore, now_ms


def open_store(settings: Settings) -> MongoStore:
    store = MongoStore.connect(settings.mongodb_uri, settings.db)
    store.ensure_indexes({t: index_declarations(t) + ACL_INDEXES.get(t, []) + COMMON_ACL_INDEXES
                          for t in SUPPORTED_TYPES})
    return store


NOTICE_INTERVAL_SECONDS = 900
NOTICES_JOB = "notices-hidden-14-days"
# renewed on every run, so a live holder keeps it through one slow run; a dead holder's job is taken over
# by another process within three intervals
NOTICE_LEASE = timedelta(seconds=2 * NOTICE_INTERVAL_SECONDS)
log = logging.getLogger("fhir_server")


@asynccontextmanager
async def notices_every_quarter_hour(app: FastAPI):
    """The 14-day notices (notifications.py) at start and then every 15 minutes, in one process at a time."""
    store, settings, holder = app.state.store, app.state.settings, process_holder()

    def run_once():
        run_if_leader(store, NOTICES_JOB, holder, now_ms(), NOTICE_LEASE,
                      lambda: (notify_hidden_documents(store, settings, now_ms()),
                               notify_lapsed_documents(store, settings, now_ms())))

    async def loop():
        while True:
            try:
                await run_in_threadpool(run_once)
            except Exception:       # a database outage must not end the loop: the next run retries
                log.exception("the 14-day notices job failed; next try in %s s", NOTICE_INTERVAL_SECONDS)
            await asyncio.sleep(NOTICE_INTERVAL_SECONDS)
    task = asyncio.create_task(loop())
    yield
    task.cancel()
    try:
        await run_in_threadpool(store.release_lease, NOTICES_JOB, holder)
    except Exception:
        log.warning("could not release the %s lease; another process takes it over when it goes stale", NOTICES_JOB)


# FastAPI's own OpenTelemetry (0.165+) would give any configured provider a span per request with its path and query
# (a patient's id, `Patient?family=...`) and its exceptions' messages: what the access log never holds (access_log.py).
# It is off; asking on every request whether a provider is configured also cost ~4 % of a read.
_WITHOUT_TELEMETRY = {"telemetry": {"tracing": False, "metrics": False, "logs": False}} \
    if "telemetry" in inspect.signature(FastAPI).parameters else {}


def create_app(settings: Settings | None = None, *, store: MongoStore | None = None,
               background_jobs: bool = False) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title="dmp-fhir-server", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=notices_every_quarter_hour if background_jobs else None, **_WITHOUT_TELEMETRY)
    app.state.settings = settings
    load_matrix(settings.access_matrix_file)     # a malformed access matrix stops the server here, not in a request
    app.state.store = store or open_store(settings)
    app.state.audit = AuditWriter(app.state.store)
    app.state.group_commit = GroupCommit()
    app.state.tokens = TokenService(settings)
    app.state.capability = capability_statement()
    api_errors.install(app)
    app.include_router(health_router)
    app.include_router(router)
    app.add_middleware(FhirFront)
    app.add_middleware(RequestLog)     # outermost: it tags every request, the FHIR ones included
    return app


def app_from_environment() -> FastAPI:
    """The factory `dmp-fhir serve --workers N` names to uvicorn: each worker builds its settings, its own
    connection to the database and its logging from the environment the parent passes on."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings, background_jobs=True)


def configure_logging(level: str) -> None:
    """The access log as bare JSON lines on stderr, written in batches; the server's other messages with their
    level, at once."""
    for logger, fmt, handler_class in ((ACCESS_LOG, "%(message)s", LineBatches),
                                       (log, "%(levelname)s %(name)s: %(message)s", logging.StreamHandler)):
        if not logger.handlers:
            handler = handler_class()
            handler.setFormatter(logging.Formatter(fmt))
            logger.addHandler(handler)
        logger.setLevel(level.upper())
    ACCESS_LOG.propagate = False
