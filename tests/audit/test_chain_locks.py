"""The audit chains' locks (storage/CONCURRENCY.md): one per patient, taken in key order, released at the end
of the unit of work."""

from __future__ import annotations

import threading

from fhir_server.audit.writer import ChainLocks


def _hold_in_thread(locks: ChainLocks, keys: list[str], done: threading.Event) -> threading.Thread:
    def run():
        locks.hold(keys)()
        done.set()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_another_patients_chain_is_not_held_up():
    locks = ChainLocks()
    release = locks.hold(["pat-a"])
    done = threading.Event()
    _hold_in_thread(locks, ["pat-b"], done)
    assert done.wait(5), "a trace of pat-b waited for pat-a's chain"
    release()


def test_the_same_patients_chain_waits_for_the_unit_that_holds_it():
    locks = ChainLocks()
    release = locks.hold(["pat-a"])
    done = threading.Event()
    _hold_in_thread(locks, ["pat-a"], done)
    assert not done.wait(0.3)
    release()
    assert done.wait(5)


def test_units_asking_for_the_same_chains_in_opposite_orders_never_deadlock():
    locks = ChainLocks()
    finished = [threading.Event() for _ in range(200)]
    for i, event in enumerate(finished):
        _hold_in_thread(locks, ["pat-a", "pat-b"] if i % 2 else ["pat-b", "pat-a"], event)
    assert all(event.wait(10) for event in finished)


def test_a_chain_lock_is_dropped_once_no_unit_holds_or_waits_for_it():
    locks = ChainLocks()
    release = locks.hold(["pat-a", "pat-b"])
    assert len(locks) == 2
    release()
    assert len(locks) == 0
