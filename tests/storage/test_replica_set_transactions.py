"""The replica-set branch of MongoStore.unit_of_work, against a recording fake of pymongo's session.

No replica set runs here (FerretDB has no transactions), so these tests pin what the branch asks pymongo
for: snapshot reads, majority writes, a commit retried while its outcome is unknown, an abort on failure.
That a real replica set honours it is untested here (README, "What is not tested here")."""

import pytest
from pymongo.errors import OperationFailure

from fhir_server.errors import Conflict, ServiceUnavailable
from fhir_server.storage.mongo import MongoStore


def _failure(label: str) -> OperationFailure:
    return OperationFailure("commit failed", 251, {"errorLabels": [label], "codeName": "x"})


class FakeSession:
    def __init__(self, commit_failures=()):
        self.calls, self.in_transaction, self.failures = [], False, list(commit_failures)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.calls.append("end")

    def start_transaction(self, **options):
        self.calls.append(("start", options))
        self.in_transaction = True

    def commit_transaction(self):
        self.calls.append("commit")
        if self.failures:
            raise self.failures.pop(0)
        self.in_transaction = False

    def abort_transaction(self):
        self.calls.append("abort")
        self.in_transaction = False


class FakeReplicaSet:
    def __init__(self, session):
        self.session, self.admin = session, self

    def command(self, name):
        return {"setName": "rs0"}

    def start_session(self):
        return self.session

    def __getitem__(self, name):
        return None


def _store(session) -> MongoStore:
    return MongoStore(FakeReplicaSet(session), "dmp", embedded=False)


def test_a_unit_of_work_is_one_snapshot_transaction_committed_with_majority():
    session = FakeSession()
    store = _store(session)
    assert store.transactional and store.kind == "MongoDB replica set"
    with store.unit_of_work() as uow:
        assert uow.session is session and store._reading() == {"session": session}
        with store.unit_of_work() as nested:           # a nested unit joins the outer transaction
            assert nested.session is session
    (start, options), *rest = session.calls
    assert start == "start" and rest == ["commit", "end"]
    assert options["read_concern"].level == "snapshot"
    assert options["write_concern"].document == {"w": "majority"}
    assert store._reading() == {}


def test_a_commit_of_unknown_outcome_is_retried():
    session = FakeSession([_failure("UnknownTransactionCommitResult")])
    with _store(session).unit_of_work():
        pass
    assert session.calls[1:] == ["commit", "commit", "end"]


def test_a_transient_commit_failure_is_a_conflict_the_caller_retries():
    session = FakeSession([_failure("TransientTransactionError")])
    with pytest.raises(Conflict):
        with _store(session).unit_of_work():
            pass
    assert session.calls[1:] == ["commit", "abort", "end"]


def test_a_commit_still_unknown_after_three_tries_is_a_503():
    session = FakeSession([_failure("UnknownTransactionCommitResult")] * 3)
    with pytest.raises(ServiceUnavailable):
        with _store(session).unit_of_work():
            pass
    assert session.calls[1:] == ["commit"] * 3 + ["abort", "end"]


def test_a_failing_body_aborts_and_runs_the_in_memory_undo():
    session, forgotten = FakeSession(), []
    with pytest.raises(ValueError):
        with _store(session).unit_of_work() as uow:
            uow.on_abort.append(lambda: forgotten.append("cache entry"))
            raise ValueError("entry 3 refused")
    assert session.calls[1:] == ["abort", "end"] and forgotten == ["cache entry"]
