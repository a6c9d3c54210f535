"""Background jobs when several server processes share one database: each job runs in one process at a time.

The process holding a job's lease (a document in the database, see MongoStore.acquire_lease) runs it and
renews the lease on each run; the others try on each of their own runs and take the lease over once it is
stale (its holder stopped or died). The lease keeps the work from being done twice; each notice is still
claimed once under a unique key (notifications.py), so even two runs that overlap send it once.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Callable, TypeVar

from ..storage.mongo import MongoStore

T = TypeVar("T")


def process_holder() -> str:
    """Who holds a lease: host, process and a random part (a pid is reused after a restart)."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def run_if_leader(store: MongoStore, job: str, holder: str, now: datetime, ttl: timedelta,
                  run: Callable[[], T]) -> T | None:
    """Run `run` if this holder takes or renews the lease of `job`; None when another process holds it."""
    if not store.acquire_lease(job, holder, now, ttl):
        return None
    return run()
