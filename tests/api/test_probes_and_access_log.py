"""/healthz, /readyz and the access log: one JSON line per request, never a body, a token, a query or a name."""

import json
import logging

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from tests.factories import patient

ACCESS = "fhir_server.access"


def test_healthz_answers_without_token_outside_fhir(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "alive"}
    assert r.headers["content-type"] == "application/json" and r.headers["x-request-id"]


def test_readyz_reports_reachable_database_and_built_indexes(client, store):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "database": "reachable", "store": store.kind}


def test_readyz_is_503_when_the_database_does_not_answer(client, store, monkeypatch):
    def down(*a, **kw):
        raise ServerSelectionTimeoutError("no server")
    monkeypatch.setattr(store.db, "command", down)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "database": "storage unavailable: ServerSelectionTimeoutError"}
    assert client.get("/healthz").status_code == 200      # alive all the same: no restart for a database outage


def test_readyz_is_503_when_a_declared_index_is_missing(client, store):
    store.db["history"].drop_index("type_1_id_1_v_-1")
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["missing_indexes"] == ["history(type 1, id 1, v -1)"]


def _lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS]


def test_one_access_line_per_request_with_actor_interaction_type_status(system, caplog):
    caplog.set_level(logging.INFO, logger=ACCESS)
    created = system.post("Patient", patient(name=[{"family": "Dupont-Secret", "given": ["Zoé"]}]),
                          headers={"X-Request-Id": "req-42"})
    assert created.status_code == 201 and created.headers["x-request-id"] == "req-42"
    system.get("Patient?family=Dupont-Secret")
    first, second = _lines(caplog)
    assert set(first) == {"time", "request_id", "method", "actor", "interaction", "resource_type", "status",
                          "duration_ms"}
    assert first["request_id"] == "req-42" and first["method"] == "POST" and first["actor"] == "Device/test-system"
    assert (first["interaction"], first["resource_type"], first["status"]) == ("create", "Patient", 201)
    assert first["duration_ms"] > 0 and first["time"].endswith("+00:00")
    assert (second["interaction"], second["status"]) == ("search-type", 200)
    everything = json.dumps(_lines(caplog))
    for secret in ("Dupont", "Zo", system.token, "family", "/fhir/"):
        assert secret not in everything


def test_refused_and_unauthenticated_requests_are_logged_too(client, as_actor, caplog):
    caplog.set_level(logging.INFO, logger=ACCESS)
    assert client.get("/fhir/Patient", headers={"Authorization": "Bearer nope"}).status_code == 401
    stranger = as_actor("Practitioner/stranger")
    assert stranger.post("Patient/x/$mask").status_code in (403, 404)
    unauthenticated, refused = _lines(caplog)
    assert unauthenticated["status"] == 401 and unauthenticated["actor"] is None
    assert refused["actor"] == "Practitioner/stranger" and refused["interaction"] == "operation $mask"
    assert refused["resource_type"] == "Patient" and refused["status"] in (403, 404)


@pytest.mark.parametrize("given", ["", "   ", "a\x07bell", "é" * 3])
def test_unusable_request_ids_are_replaced(client, given):
    r = client.get("/healthz", headers={"X-Request-Id": given.encode("utf-8")})
    rid = r.headers["x-request-id"]
    assert rid != given.strip() and len(rid) == 32


def test_long_request_id_is_cut_to_64(client):
    assert client.get("/healthz", headers={"X-Request-Id": "x" * 100}).headers["x-request-id"] == "x" * 64


def test_an_unexpected_failure_is_logged_as_500_with_the_request_id(app, as_actor, caplog, monkeypatch):
    from fastapi.testclient import TestClient

    import fhir_server.api.routes as routes

    def broken(ctx, it):
        raise RuntimeError("bug")
    monkeypatch.setattr(routes, "dispatch", broken)
    caplog.set_level(logging.INFO, logger=ACCESS)
    client = TestClient(app, raise_server_exceptions=False)
    token = as_actor("Practitioner/p1").token
    r = client.get("/fhir/Patient/x", headers={"Authorization": f"Bearer {token}", "X-Request-Id": "boom-1"})
    assert r.status_code == 500 and "boom-1" in r.json()["issue"][0]["diagnostics"]
    [line] = _lines(caplog)
    assert (line["request_id"], line["status"], line["interaction"]) == ("boom-1", 500, "read")



def _batched(handler_class) -> tuple:
    import io
    stream = io.StringIO()
    handler = handler_class(stream)
    logger = logging.getLogger(f"tests.{handler_class.__name__}")
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    return stream, handler, logger


def test_the_served_access_log_writes_its_lines_together_and_loses_none():
    from fhir_server.api.access_log import LineBatches

    class NoTimer(LineBatches):
        FLUSH_SECONDS = 3600.0      # only batches and flushes write here

    stream, handler, logger = _batched(NoTimer)
    for i in range(LineBatches.BATCH - 1):
        logger.info('{"n": %d}', i)
    assert stream.getvalue() == ""                           # pending: no write per line
    logger.info('{"n": %d}', LineBatches.BATCH - 1)          # a full batch: one write
    assert [json.loads(line)["n"] for line in stream.getvalue().splitlines()] == list(range(LineBatches.BATCH))
    logger.info('{"n": "at exit"}')
    handler.flush()                                          # what logging.shutdown does at exit
    assert stream.getvalue().endswith('{"n": "at exit"}\n')


def test_a_lone_access_line_is_written_by_the_timer():
    import time

    from fhir_server.api.access_log import LineBatches

    stream, _, logger = _batched(LineBatches)
    logger.info('{"n": "lone"}')
    deadline = time.monotonic() + 10 * LineBatches.FLUSH_SECONDS + 5
    while not stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stream.getvalue() == '{"n": "lone"}\n'


@pytest.fixture
def served_access_log(monkeypatch):
    """The access logger as configure_logging sets it up for the served process, into a stream."""
    import io

    from fhir_server.api.access_log import ACCESS_LOG, LineBatches

    class Spied(LineBatches):
        FLUSH_SECONDS = 3600.0
        direct = 0

        def add_line(self, line):
            Spied.direct += 1
            super().add_line(line)

    stream = io.StringIO()
    handler = Spied(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    monkeypatch.setattr(ACCESS_LOG, "propagate", False)
    monkeypatch.setattr(ACCESS_LOG, "filters", [])
    monkeypatch.setattr(ACCESS_LOG, "level", logging.INFO)
    monkeypatch.setattr(ACCESS_LOG, "handlers", [])
    return stream, handler, ACCESS_LOG


def _only(handler, logger) -> None:
    """The served handler alone (pytest's log capture adds its handlers to the logger during the test)."""
    logger.handlers[:] = [handler]


def test_the_served_access_log_takes_each_line_without_a_record_and_writes_it_whole(system, served_access_log):
    stream, handler, logger = served_access_log
    _only(handler, logger)
    system.get("Patient?family=Martin", headers={"X-Request-Id": "direct-1"})
    handler.flush()
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert (line["request_id"], line["method"], line["status"], line["interaction"]) == \
        ("direct-1", "GET", 200, "search-type")
    assert type(handler).direct == 1 and "Martin" not in stream.getvalue()


def test_an_access_log_with_a_filter_or_another_format_goes_through_logging(system, served_access_log):
    stream, handler, logger = served_access_log
    _only(handler, logger)
    logger.filters = [lambda record: False]                  # an application's filter drops every line
    system.get("Patient?family=Martin")
    logger.filters = []
    handler.setFormatter(logging.Formatter("access %(message)s"))
    system.get("Patient?family=Martin", headers={"X-Request-Id": "formatted-1"})
    handler.flush()
    [text] = stream.getvalue().splitlines()
    assert text.startswith("access {") and json.loads(text[len("access "):])["request_id"] == "formatted-1"
    assert type(handler).direct == 0


class _RecordingTracerProvider:
    """A configured OpenTelemetry tracer provider (FastAPI's telemetry takes any provider but its own proxies)
    that records who asks it for a tracer."""

    def __init__(self):
        from opentelemetry.trace import NoOpTracerProvider
        self.asked: list[str] = []
        self._noop = NoOpTracerProvider()

    def get_tracer(self, name, *args, **kwargs):
        self.asked.append(name)
        return self._noop.get_tracer(name, *args, **kwargs)


def test_no_telemetry_span_carries_a_path_or_a_query_to_a_configured_provider(system, monkeypatch):
    """FastAPI's own telemetry would hand a span with the request's path and query (a patient's id, a family name)
    to any provider an operator configures: it is off, as the access log holds neither."""
    pytest.importorskip("fastapi.telemetry")
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from opentelemetry import trace

    provider = _RecordingTracerProvider()
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)
    assert system.get("Patient?family=Dupont-Secret").status_code == 200
    assert system.get("Patient/unknown-id").status_code == 404
    assert provider.asked == []

    control = FastAPI()                      # the same provider, FastAPI's defaults: asked for a tracer
    control.get("/x")(lambda: {"ok": True})
    assert TestClient(control).get("/x?family=Dupont-Secret").status_code == 200
    assert provider.asked == ["fastapi"]
