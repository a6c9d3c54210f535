"""Group commit of reads' traces on the embedded store: the traces of the requests that reach this point in one
turn of the event loop are stored in one unit of work, and each request answers only once its own are stored.

On the embedded store every request runs on the loop's thread, one after the other (storage/CONCURRENCY.md).
Storing each read's trace in a unit of its own paid, per request, for the unit, the store's lock, the chain locks
and one insert; paid once for the requests of one turn, reads went from ~3,300 to ~4,300 a second with 16 clients
(benchmarks/rest.py). Nothing is answered before its trace is stored: a request whose traces cannot be stored gets
the error it got before (503), its data is not sent. When the unit of several requests fails, each request's
traces are tried again in a unit of their own, so that one request's failure is not its neighbours'; a request
whose own traces fail is traced as failed, as when its trace was written inline (tracing.write_collected).

Emergency reads (any access mode but normal) are not collected: the patient is told of such an access after its
trace is stored (services/dispatch.py), and a trace stored later could still fail. Nor are Bundles': a batch's
writes land with their traces entry by entry, and a late failure of its reads' traces would answer 503 for writes
that are stored. On MongoDB the reads run in the thread pool and store their own traces (not collected either).
"""

from __future__ import annotations

import asyncio

from ..errors import ServiceUnavailable
from ..services.tracing import write_collected, write_together

_Waiting = tuple[list, asyncio.Future]      # (one request's collected traces, what it waits on)


class GroupCommit:
    def __init__(self):
        # event loop -> the requests of its current turn (one loop at a time in a server; each test client has its
        # own): touched only from that loop's thread
        self._turns: dict[asyncio.AbstractEventLoop, list[_Waiting]] = {}

    async def stored(self, store, collected: list | None) -> None:
        """Returns once `collected` (Context.collected of one request: None or empty when it left nothing) is
        stored; raises what storing it raised."""
        if not collected:
            return
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = []
            loop.call_soon(self._commit, loop, store)     # after the requests already scheduled in this turn
        turn.append((collected, done))
        await done

    def _commit(self, loop, store) -> None:
        waiting = self._turns.pop(loop)
        try:
            if len(waiting) > 1:
                try:
                    write_together(store, [trace for collected, _ in waiting for trace in collected])
                except Exception:  # noqa: BLE001 - rolled back whole: each request's traces are tried alone below
                    pass
                else:
                    for _, done in waiting:
                        _settle(done, None)
                    return
            for collected, done in waiting:
                try:
                    write_collected(store, collected)
                except Exception as failure:  # noqa: BLE001 - handed to the request that waits
                    _settle(done, failure)
                else:
                    _settle(done, None)
        finally:       # whatever happened, no request waits for ever
            for _, done in waiting:
                _settle(done, ServiceUnavailable("the access trace could not be written: the request is refused"))


def _settle(done: asyncio.Future, failure: BaseException | None) -> None:
    if done.done():      # settled already, or its request was cancelled (its traces are stored all the same)
        return
    if failure is None:
        done.set_result(None)
    else:
        done.set_exception(failure)
