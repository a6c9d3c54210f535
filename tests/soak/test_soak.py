"""Issue 9, "Deliver" 5: 16 concurrent clients for 20 s against a real `dmp-fhir serve` process.

No request hangs (each has a timeout) or gets a 5xx, no update is lost, every version history is contiguous,
every audit chain verifies and every answer has its trace once the server has stopped. Figures of the same run:
benchmarks/soak.py.
DMP_FHIR_SOAK_SECONDS shortens or lengthens the run.
"""

from __future__ import annotations

import os

import pytest

from .load import soak

SECONDS = float(os.environ.get("DMP_FHIR_SOAK_SECONDS", "20"))


@pytest.fixture(scope="module")
def soaked():
    return soak(clients=16, seconds=SECONDS)


@pytest.mark.timeout(int(SECONDS) + 300)
def test_no_request_hangs_fails_or_gets_an_unexpected_answer(soaked):
    run, _, _ = soaked
    assert run.unexpected == []
    assert run.total() > 16 * 5, "the clients barely ran"
    for kind in ("read", "search", "create", "update", "patch", "update-shared", "transaction",
                 "failing-transaction", "refused-write"):
        assert run.statuses[kind], f"no {kind} was sent"


def test_no_update_is_lost(soaked):
    run, _, final = soaked
    for id_, writes in run.own_updates.items():
        assert final["own"][id_]["version"] == 1 + writes
        assert final["own"][id_]["counter"] == run.own_puts[id_]
    assert final["shared_version"] == 1 + run.shared_puts


def test_failed_transactions_leave_nothing(soaked):
    run, _, final = soaked
    assert sum(run.statuses["failing-transaction"].values()) > 0
    assert final["rolled_back_stored"] == 0


def test_every_history_is_contiguous_and_every_audit_chain_verifies(soaked):
    run, report, _ = soaked
    assert report is not None, "the server printed no integrity report after SIGTERM"
    assert report["version_gaps"] == []
    assert report["broken_chains"] == []
    assert report["traces_checked"] >= run.total()


def test_every_answer_has_its_trace(soaked):
    """Reads answer once their traces are stored, together with other requests' (api/group_commit.py): under 16
    concurrent clients, every request that got an answer, whatever its status, left a trace naming it."""
    run, report, _ = soaked
    assert report is not None, "the server printed no integrity report after SIGTERM"
    assert None not in run.answered and len(run.answered) == run.total() - sum(
        run.statuses[kind][None] for kind in run.statuses)
    assert run.answered - set(report["traced_requests"]) == set()
