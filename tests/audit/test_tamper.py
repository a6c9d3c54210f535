"""Tamper detection: each trace carries the hash of the previous trace of its patient's chain, and
`verify` (and `dmp-fhir audit verify`) names the first broken link (issue 5, "Deliver" 3)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from fhir_server import cli
from fhir_server.audit.writer import COLLECTION, verify

from ..stores import requires
from .traces import chain, send

LEFEBVRE = "Practitioner/pra-antoine-lefebvre"
CLAIRE = "pat-claire-martin"


@pytest.fixture
def written(seeded, as_actor):
    """Four traces in Claire Martin's chain, two in Gérard Bonnet's, one in the system chain."""
    api = as_actor(LEFEBVRE)
    for _ in range(4):
        assert send(api, "GET", f"Patient/{CLAIRE}")[0].status_code == 200
    for _ in range(2):
        assert send(api, "GET", "Patient/pat-gerard-bonnet")[0].status_code == 200
    assert send(api, "GET", "Patient/pat-nobody")[0].status_code == 404
    return seeded


def test_untouched_chains_verify_clean(written):
    checked, broken = verify(written)
    assert checked == 7
    assert broken == []
    assert [d["_chain"]["seq"] for d in chain(written, CLAIRE)] == [1, 2, 3, 4]


def test_each_trace_points_at_the_one_before_it(written):
    docs = chain(written, CLAIRE)
    assert docs[0]["_chain"]["prev"] == "0" * 64
    for before, after in zip(docs, docs[1:]):
        assert after["_chain"]["prev"] == before["_chain"]["hash"]


@pytest.mark.parametrize("field, value", [
    ("res.outcome", "4"),
    ("res.agent.0.who.reference", "Practitioner/pra-yann-le-gall"),
    ("res.recorded", "2020-01-01T00:00:00Z"),
    ("res.entity.0.what.reference", "Patient/pat-david-cohen"),
])
def test_altered_trace_is_named_by_verify(written, field, value):
    target = chain(written, CLAIRE)[1]
    written.db[COLLECTION].update_one({"_id": target["_id"]}, {"$set": {field: value}})
    checked, broken = verify(written)
    assert checked == 7
    assert len(broken) == 1                       # the other chains are untouched
    (link,) = broken
    assert (link.chain, link.seq, link.trace_id) == (CLAIRE, 2, target["_id"])
    assert "altered" in link.why
    assert CLAIRE in str(link) and target["_id"] in str(link)


def test_deleted_middle_trace_is_named_as_a_gap(written):
    docs = chain(written, CLAIRE)
    written.db[COLLECTION].delete_one({"_id": docs[2]["_id"]})
    checked, broken = verify(written)
    assert checked == 6
    (link,) = broken
    assert link.chain == CLAIRE
    assert link.seq == 3                          # the missing one
    assert link.trace_id == docs[3]["_id"]        # found where #3 should be
    assert "missing" in link.why and "#3" in str(link)


def test_deleted_first_trace_is_a_gap(written):
    docs = chain(written, CLAIRE)
    written.db[COLLECTION].delete_one({"_id": docs[0]["_id"]})
    (link,) = verify(written)[1]
    assert (link.chain, link.seq) == (CLAIRE, 1)


def test_trace_moved_to_another_chain_breaks_both(written):
    """Moved to the free slot after Gérard Bonnet's two traces: the unique (chain, seq) index of a real
    database refuses a slot already taken, so a forger would pick this one."""
    target = chain(written, CLAIRE)[1]
    written.db[COLLECTION].update_one({"_id": target["_id"]},
                                      {"$set": {"_chain.key": "pat-gerard-bonnet", "_chain.seq": 3}})
    broken = {link.chain: link for link in verify(written)[1]}
    assert set(broken) == {CLAIRE, "pat-gerard-bonnet"}
    assert broken[CLAIRE].seq == 2 and "missing" in broken[CLAIRE].why
    assert broken["pat-gerard-bonnet"].seq == 3 and broken["pat-gerard-bonnet"].trace_id == target["_id"]


def test_recomputed_hash_of_an_altered_trace_breaks_the_next_link(written):
    """An editor who also rewrites the altered trace's own hash is caught by the trace after it."""
    from fhir_server.audit.chain import link_hash
    docs = chain(written, CLAIRE)
    target = docs[1]
    res = {**target["res"], "outcome": "4"}
    forged = link_hash(res, target["_acl"], CLAIRE, 2, target["_chain"]["prev"])
    written.db[COLLECTION].update_one({"_id": target["_id"]}, {"$set": {"res": res, "_chain.hash": forged}})
    (link,) = verify(written)[1]
    assert (link.chain, link.seq, link.trace_id) == (CLAIRE, 3, docs[2]["_id"])


@pytest.mark.parametrize("change", [
    {"_acl.patients": []},
    {"_acl.patients": ["pat-someone-else"]},
], ids=["unlinked-from-patient", "moved-to-another-record"])
def test_trace_hidden_from_the_holder_in_the_database_is_detected(written, as_actor, change):
    target = chain(written, CLAIRE)[1]
    holder = as_actor(f"Patient/{CLAIRE}")
    seen = {e["resource"]["id"] for e in holder.get(f"AuditEvent?patient=Patient/{CLAIRE}").json()["entry"]}
    assert target["_id"] in seen
    written.db[COLLECTION].update_one({"_id": target["_id"]}, {"$set": change})
    seen = {e["resource"]["id"] for e in holder.get(f"AuditEvent?patient=Patient/{CLAIRE}").json()["entry"]}
    assert target["_id"] not in seen            # the edit did hide it
    assert verify(written)[1] != []


def test_new_traces_after_a_tampered_one_do_not_hide_the_break(written, as_actor):
    target = chain(written, CLAIRE)[1]
    written.db[COLLECTION].update_one({"_id": target["_id"]}, {"$set": {"res.outcome": "8"}})
    send(as_actor(LEFEBVRE), "GET", f"Patient/{CLAIRE}")
    (link,) = verify(written)[1]
    assert (link.chain, link.seq) == (CLAIRE, 2)


# -- the chain under concurrency ------------------------------------------------------------------
def test_concurrent_requests_keep_one_unbroken_chain(seeded, as_actor):
    api = as_actor(LEFEBVRE)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: send(api, "GET", "Patient/pat-gerard-bonnet")[0].status_code, range(24)))
    assert statuses == [200] * 24
    assert [d["_chain"]["seq"] for d in chain(seeded, "pat-gerard-bonnet")] == list(range(1, 25))
    assert verify(seeded) == (24, [])


@requires("shared_store")
def test_two_server_processes_share_one_chain(seeded, app, settings, as_actor):
    """A second server on the same database (its own chain-head cache) appends to the same chains."""
    from fastapi.testclient import TestClient
    from fhir_server.main import create_app
    from ..conftest import Api
    other = Api(TestClient(create_app(settings, store=seeded)), as_actor(LEFEBVRE).token)
    first = as_actor(LEFEBVRE)
    for api in (first, other, first, other, first):
        assert send(api, "GET", f"Patient/{CLAIRE}")[0].status_code == 200
    assert [d["_chain"]["seq"] for d in chain(seeded, CLAIRE)] == [1, 2, 3, 4, 5]
    assert verify(seeded)[1] == []


# -- the command line ------------------------------------------------------------------------------
def _run_cli(argv: list[str]) -> int:
    try:
        return cli.main(argv)
    except SystemExit as e:           # argparse exits on an unknown command
        return e.code if isinstance(e.code, int) else 1


@pytest.fixture
def cli_store(written, monkeypatch):
    """`dmp-fhir audit verify` opens the configured store: point it at this test's store."""
    monkeypatch.setattr("fhir_server.main.open_store", lambda settings: written)
    monkeypatch.setattr(cli, "open_store", lambda settings: written, raising=False)
    return written


def test_cli_audit_verify_passes_on_clean_chains(cli_store, capsys):
    assert _run_cli(["audit", "verify"]) == 0
    out = capsys.readouterr()
    assert "7 traces checked" in out.out
    assert "BROKEN" not in out.out + out.err


def test_cli_audit_verify_fails_and_names_the_broken_link(cli_store, capsys):
    target = chain(cli_store, CLAIRE)[1]
    cli_store.db[COLLECTION].update_one({"_id": target["_id"]}, {"$set": {"res.outcome": "4"}})
    assert _run_cli(["audit", "verify"]) != 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert CLAIRE in text and target["_id"] in text and "#2" in text


def test_cli_audit_verify_names_a_gap(cli_store, capsys):
    docs = chain(cli_store, CLAIRE)
    cli_store.db[COLLECTION].delete_one({"_id": docs[2]["_id"]})
    assert _run_cli(["audit", "verify"]) != 0
    text = capsys.readouterr().out
    assert CLAIRE in text and "#3" in text and "missing" in text
