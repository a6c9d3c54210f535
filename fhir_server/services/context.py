"""What every service receives (Context, Interaction) and returns (Outcome).

An Interaction is one FHIR REST interaction, whether it came over HTTP or as a Bundle entry, so that
batch and transaction entries go through exactly the same code as direct requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..access.matrix import load_matrix
from ..access.policy import Policy
from ..audit.balp import Trace
from ..audit.writer import AuditWriter
from ..auth.actor import Actor
from ..config import Settings
from ..storage.mongo import MongoStore, UnitOfWork, now_ms


@dataclass
class Interaction:
    kind: str                       # read, vread, create, update, patch, delete, search-type, history-instance …
    method: str
    resource_type: str | None = None
    id: str | None = None
    version: str | None = None
    operation: str | None = None    # name without '$'
    params: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None                # parsed JSON
    content_type: str = "application/fhir+json"
    if_match: str | None = None
    if_none_exist: str | None = None
    lenient: bool = False
    assigned_id: str | None = None  # a create whose id was chosen beforehand (transaction urn:uuid mapping)
    compartment: str | None = None  # GET Patient/{id}/{type}: the search stays in that patient's record


@dataclass
class Outcome:
    status: int
    resource: dict | None = None
    resource_type: str | None = None
    id: str | None = None
    version: int | None = None
    last_modified: datetime | None = None
    created: bool = False
    message: dict | None = None     # an informational OperationOutcome (delete, no-op …)

    def location(self, base_url: str) -> str | None:
        if self.id is None or self.version is None:
            return None
        return f"{base_url}/{self.resource_type}/{self.id}/_history/{self.version}"


@dataclass
class Context:
    store: MongoStore
    settings: Settings
    actor: Actor
    base_url: str
    request_id: str = ""
    uow: UnitOfWork | None = None   # set while a write or a transaction Bundle runs
    prefer_return: str = "representation"   # Prefer: return=minimal|representation|OperationOutcome
    audit: AuditWriter | None = None
    trace: Trace | None = None      # what the current interaction touched, for its AuditEvents
    now: datetime = field(default_factory=now_ms)
    deferred: list = field(default_factory=list)   # refusal traces to write once a transaction rolled back
    pending: frozenset = frozenset()    # Type/id of the resources the current transaction Bundle creates
    # where a read leaves its traces (with their contexts) for the caller to store together with other requests'
    # (api/group_commit.py); None: tracing.write stores them at once, in a unit of work of their own
    collected: list | None = None
    _policy: Policy | None = None

    @property
    def policy(self) -> Policy:
        if self._policy is None:
            self._policy = Policy(self.store, self.actor, self.now, self.settings.age_of_majority,
                                  load_matrix(self.settings.access_matrix_file))
        return self._policy
