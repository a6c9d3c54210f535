"""Request tagging and the access log, as one pure ASGI middleware.

Pure ASGI (not Starlette's BaseHTTPMiddleware, which re-wraps every response body in a task and a queue):
the middleware only reads the scope and wraps `send` to see the status and add the X-Request-Id header.

Each request ends with one JSON line on the `fhir_server.access` logger. What it holds is fixed here and
never includes a body, a header value other than the request id, a token, a query string or a path (a
query may hold a patient's name, `Patient?family=...`): time, request id, method, the actor's reference,
the interaction, the resource type, the status and the duration. The route tells the middleware the
actor and the interaction through the ASGI scope's "state" dict (`request.state` in Starlette).

The served process writes those lines in batches (`LineBatches`): one write and flush per request cost about
a twentieth of a read, and the reader of the log (a pipe, a collector) woke once per line.
"""

from __future__ import annotations

import atexit
import logging
import re
import threading
import time
from datetime import datetime, timezone

import orjson

from ..ids import random_hex

ACCESS_LOG = logging.getLogger("fhir_server.access")
REQUEST_ID_HEADER = b"x-request-id"
MAX_REQUEST_ID = 64
PLAIN_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# what a route may add to the scope's state for the log line (anything else there is never logged)
LOGGED_STATE = ("actor", "interaction", "resource_type")


class RequestLog:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id = _request_id(scope)
        status = 500          # what the client gets if the app raises before answering

        async def tagged_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        finally:
            if ACCESS_LOG.isEnabledFor(logging.INFO):      # --log-level warning: not even built
                _log(_line(scope, state, status, started))


def _log(line: str) -> None:
    """Straight to the batching handler when it is the access log's only way out, as configure_logging sets it up
    for the served process: a LogRecord and the logger's dispatch cost about as much as building the line. Any
    other set-up (a test's caplog, handlers or filters an embedding application adds) gets the record."""
    handlers = ACCESS_LOG.handlers
    if len(handlers) == 1 and not ACCESS_LOG.propagate and not ACCESS_LOG.filters:
        handler = handlers[0]
        if isinstance(handler, LineBatches) and handler.writes_messages_alone() and handler.level <= logging.INFO:
            handler.add_line(line)
            return
    ACCESS_LOG.info(line)


def _request_id(scope) -> str:
    """The caller's X-Request-Id when it is a plain token (it is echoed in a header and written in the traces
    and the log), else a fresh one."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            given = value.decode("latin-1").strip()[:MAX_REQUEST_ID]
            if PLAIN_REQUEST_ID.fullmatch(given):
                return given
    return random_hex()


def _line(scope, state: dict, status: int, started: float) -> str:
    record = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
              "request_id": state["request_id"], "method": scope.get("method"),
              **{key: state.get(key) for key in LOGGED_STATE},
              "status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 2)}
    return orjson.dumps(record).decode()


class LineBatches(logging.StreamHandler):
    """A stream handler that writes its lines together: when BATCH lines are pending, every FLUSH_SECONDS (a timer
    thread) and at exit. A line waits at most FLUSH_SECONDS. The handler's own lock guards the pending lines; it is
    a leaf (storage/CONCURRENCY.md). The exit flush is its own: uvicorn's logging setup (dictConfig) drops the
    handlers made before it from the list logging flushes at exit."""

    BATCH = 256
    FLUSH_SECONDS = 0.25

    def __init__(self, stream=None):
        super().__init__(stream)
        self._pending: list[str] = []
        threading.Thread(target=self._every_while, name="access-log-flush", daemon=True).start()
        atexit.register(self.flush)

    def emit(self, record: logging.LogRecord) -> None:     # called under self.lock (Handler.handle)
        try:
            self._pending.append(self.format(record))
            if len(self._pending) >= self.BATCH:
                self._write()
        except Exception:  # noqa: BLE001 - what StreamHandler does: a log failure never fails the request
            self.handleError(record)

    def add_line(self, line: str) -> None:
        """What `emit` does for a record whose whole output is `line`."""
        with self.lock:
            try:
                self._pending.append(line)
                if len(self._pending) >= self.BATCH:
                    self._write()
            except Exception:  # noqa: BLE001 - as in emit: the line is dropped, the request goes on
                self._pending.clear()

    def writes_messages_alone(self) -> bool:
        """Whether a record's output is its message and nothing else (the '%(message)s' format, no filter)."""
        formatter = self.formatter
        return (not self.filters and type(formatter) is logging.Formatter and formatter._fmt == "%(message)s"
                and type(formatter._style) is logging.PercentStyle)

    def flush(self) -> None:
        with self.lock:
            try:
                self._write()
            except Exception:  # noqa: BLE001 - a closed or broken stream: the lines are dropped, as a write's
                self._pending.clear()

    def _write(self) -> None:
        if self._pending:
            lines, self._pending = self._pending, []
            self.stream.write(self.terminator.join(lines) + self.terminator)
            self.stream.flush()

    def _every_while(self) -> None:
        while True:
            time.sleep(self.FLUSH_SECONDS)
            self.flush()
