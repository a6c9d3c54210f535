"""Group commit (api/group_commit.py): on the embedded store the reads' traces of one turn of the event loop are
stored in one unit of work; every request still answers only once its own traces are stored, a request whose
traces cannot be stored answers 503 without its data and does not take its neighbours down with it."""

from __future__ import annotations

import asyncio
import uuid

import orjson
import pytest

from fhir_server.audit.writer import COLLECTION, verify
from fhir_server.errors import ServiceUnavailable

from .. import factories
from .traces import request_id, stored_traces

LEFEBVRE = "Practitioner/pra-antoine-lefebvre"      # médecin traitant of the patients below
PATIENTS = ["pat-claire-martin", "pat-gerard-bonnet", "pat-robert-vidal", "pat-claire-martin"]
CLAIRE_INS = "284066938441230"


class Exchange:
    """One request through the application's ASGI interface, recording what it sent and when."""

    def __init__(self, app, token: str, path: str, events: list):
        self.app, self.path, self.events = app, path, events
        self.rid = f"test-{uuid.uuid4().hex}"
        self.status, self.body = None, b""
        self.scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                      "scheme": "http", "path": f"/fhir/{path}", "raw_path": f"/fhir/{path}".encode(),
                      "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
                      "server": ("testserver", 80),
                      "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode()),
                                  (b"accept", b"application/fhir+json"), (b"x-request-id", self.rid.encode())]}

    async def run(self):
        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.events.append(("answer", self.rid))
            else:
                self.body += message.get("body", b"")
        await self.app({**self.scope, "state": {}}, receive, send)

    def json(self) -> dict:
        return orjson.loads(self.body)


def _record_inserts(store, monkeypatch, events: list, refuse=lambda docs: False) -> None:
    """Every insert into the AuditEvent collection is an event naming the requests whose traces it carries;
    `refuse(docs)` true: that insert fails as a database that cannot write does."""
    insert_many = store.insert_many

    def recorded(collection, docs, uow=None, **kwargs):
        if collection == COLLECTION:
            if refuse(docs):
                raise ServiceUnavailable("the access trace could not be written")
            events.append(("traces", [request_id(d["res"]) for d in docs]))
        return insert_many(collection, docs, uow, **kwargs)
    monkeypatch.setattr(store, "insert_many", recorded)


def _together(app, exchanges: list[Exchange]):
    async def all_of_them():
        await asyncio.gather(*(e.run() for e in exchanges))
    asyncio.run(all_of_them())


def _reads(app, events: list, paths=None) -> list[Exchange]:
    token = app.state.tokens.mint(LEFEBVRE, scope="user/*.cruds")
    return [Exchange(app, token, path, events) for path in paths or [f"Patient/{p}" for p in PATIENTS]]


def test_reads_of_one_turn_share_one_insert_and_each_answers_after_its_trace(app, seeded, monkeypatch):
    events: list = []
    _record_inserts(seeded, monkeypatch, events)
    exchanges = _reads(app, events)
    _together(app, exchanges)
    assert [e.status for e in exchanges] == [200] * len(exchanges)
    assert [e.json()["id"] for e in exchanges] == PATIENTS
    inserts = [rids for kind, rids in events if kind == "traces"]
    if seeded.embedded:     # they all reach the commit before the loop's next turn: one unit, one insert
        assert inserts == [[e.rid for e in exchanges]]
    else:                   # on MongoDB each read stores its own, in the thread pool
        assert sorted(rid for rids in inserts for rid in rids) == sorted(e.rid for e in exchanges)
    for exchange in exchanges:
        stored_at = next(i for i, (kind, rids) in enumerate(events) if kind == "traces" and exchange.rid in rids)
        assert events.index(("answer", exchange.rid)) > stored_at
        assert len(stored_traces(seeded, exchange.rid)) == 1
    assert verify(seeded)[1] == []


def test_a_read_whose_trace_cannot_be_stored_fails_alone(app, seeded, monkeypatch):
    events: list = []
    exchanges = _reads(app, events)
    doomed = exchanges[0]           # Claire Martin, read twice in the turn: her other read must still answer
    _record_inserts(seeded, monkeypatch, events, refuse=lambda docs: any(
        request_id(d["res"]) == doomed.rid for d in docs))
    before = seeded.count(COLLECTION, {})
    _together(app, exchanges)
    assert doomed.status == 503
    body = doomed.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == "transient"
    assert CLAIRE_INS not in doomed.body.decode() and "Martin" not in doomed.body.decode()
    assert [e.status for e in exchanges[1:]] == [200, 200, 200]
    assert exchanges[3].json()["id"] == "pat-claire-martin"
    assert stored_traces(seeded, doomed.rid) == []          # neither its read nor the trace of its failure
    assert all(len(stored_traces(seeded, e.rid)) == 1 for e in exchanges[1:])
    assert seeded.count(COLLECTION, {}) == before + 3
    assert verify(seeded)[1] == []


def test_when_no_trace_can_be_stored_no_read_answers(app, seeded, monkeypatch):
    events: list = []
    _record_inserts(seeded, monkeypatch, events, refuse=lambda docs: True)
    before = seeded.count(COLLECTION, {})
    exchanges = _reads(app, events)
    _together(app, exchanges)
    assert [e.status for e in exchanges] == [503] * len(exchanges)
    for exchange in exchanges:
        assert exchange.json()["resourceType"] == "OperationOutcome"
        assert exchange.json()["issue"][0]["code"] == "transient"
        assert CLAIRE_INS not in exchange.body.decode()
    assert seeded.count(COLLECTION, {}) == before
    assert verify(seeded)[1] == []


def test_a_refusal_is_traced_with_the_reads_of_its_turn(app, seeded, monkeypatch):
    events: list = []
    _record_inserts(seeded, monkeypatch, events)
    token = app.state.tokens.mint("Practitioner/pra-yann-le-gall", scope="user/*.cruds")    # no authorisation
    refused = Exchange(app, token, "Patient/pat-claire-martin", events)
    exchanges = [*_reads(app, events), refused]
    _together(app, exchanges)
    assert refused.status in (403, 404) and CLAIRE_INS not in refused.body.decode()
    (trace,) = stored_traces(seeded, refused.rid)
    assert trace["res"]["outcome"] == "4"
    if seeded.embedded:
        assert [rids for kind, rids in events if kind == "traces"] == [[e.rid for e in exchanges]]
    assert events.index(("answer", refused.rid)) > events.index(next(e for e in events if e[0] == "traces"))


def test_a_read_cancelled_while_its_trace_waits_is_traced_all_the_same(app, seeded, monkeypatch):
    if not seeded.embedded:
        pytest.skip("on MongoDB a read stores its own trace in the thread pool: no trace waits for a group commit")
    events: list = []
    _record_inserts(seeded, monkeypatch, events)
    first, second = _reads(app, events, ["Patient/pat-claire-martin", "Patient/pat-gerard-bonnet"])

    async def scenario():
        gone = asyncio.ensure_future(first.run())
        stays = asyncio.ensure_future(second.run())
        await asyncio.sleep(0)          # both ran up to their trace's commit, which comes next in the loop
        gone.cancel()
        await stays
        with pytest.raises(asyncio.CancelledError):
            await gone
    asyncio.run(scenario())
    assert second.status == 200 and first.status is None       # the cancelled one never answered
    assert len(stored_traces(seeded, first.rid)) == 1 and len(stored_traces(seeded, second.rid)) == 1
    assert verify(seeded)[1] == []


def test_an_emergency_read_whose_trace_fails_tells_nobody(app, seeded, monkeypatch):
    """The patient and the médecin traitant are told of an emergency access once its trace is stored: such a read
    is not left to the group commit, where its trace would be stored after the notice was sent."""
    events: list = []
    _record_inserts(seeded, monkeypatch, events, refuse=lambda docs: True)
    notices = seeded.count("Communication", {})
    token = app.state.tokens.mint("Practitioner/urgentiste", scope="user/*.cruds", mode="bris_de_glace",
                                  reason="patient inconscient")
    exchange = Exchange(app, token, "Patient/pat-claire-martin", events)
    _together(app, [exchange])
    assert exchange.status == 503 and CLAIRE_INS not in exchange.body.decode()
    assert seeded.count("Communication", {}) == notices


def test_a_batch_whose_read_cannot_be_traced_still_answers_for_its_write(app, seeded, client, monkeypatch):
    """A Bundle's traces are not left to the group commit: its write is stored with its trace, and only the read
    whose trace fails answers 503, inside the batch's answer."""
    events: list = []
    _record_inserts(seeded, monkeypatch, events, refuse=lambda docs: any(
        d["res"]["subtype"][0]["code"] == "read" for d in docs))
    token = app.state.tokens.mint("Device/test-system", scope="system/*.cruds")
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "Patient/pat-claire-martin"}},
        {"request": {"method": "POST", "url": "Patient"},
         "resource": factories.patient(ins="290017512345678", family="Groupe", given="Commit")}]}
    response = client.post("/fhir", json=bundle, headers={"Authorization": f"Bearer {token}",
                                                          "Content-Type": "application/fhir+json"})
    assert response.status_code == 200
    read, created = response.json()["entry"]
    assert read["response"]["status"].startswith("503") and CLAIRE_INS not in response.text
    assert created["response"]["status"].startswith("201")
    assert seeded.find("Patient", {"res.name.family": "Groupe"}) != []


def test_a_hidden_document_whose_trace_fails_once_answers_like_an_absent_one(app, seeded, monkeypatch):
    """The first insert of each request's traces fails, the next would succeed. The trace of a "not found" is
    not written again as the trace of the 503 (as when traces were written inline): rewritten, the hidden
    document's would land in the holder's record under their own view, where an absent id's does not."""
    events: list = []
    failed_once: set = set()

    def first_time(docs):
        rids = {request_id(d["res"]) for d in docs} - failed_once
        failed_once.update(rids)
        return bool(rids)
    _record_inserts(seeded, monkeypatch, events, refuse=first_time)
    token = app.state.tokens.mint("Patient/pat-philippe-morel", scope="patient/*.cruds")
    hidden = Exchange(app, token, "DocumentReference/doc-philippe-morel-cr-rcp-2026-11", events)
    absent = Exchange(app, token, "DocumentReference/doc-philippe-morel-never-filed", events)
    _together(app, [hidden])
    _together(app, [absent])
    assert hidden.status == absent.status == 503
    assert hidden.json() == absent.json()
    assert stored_traces(seeded, hidden.rid) == stored_traces(seeded, absent.rid) == []
