"""What the rest of the server may assume about storage.

One MongoDB collection per resource type holds the current version of each resource; one shared
`history` collection holds every version of every resource. A current document looks like:

    {
      "_id":     "<resource id>",
      "v":       <int, the version number; meta.versionId is str(v)>,
      "lu":      <datetime, UTC, meta.lastUpdated>,
      "deleted": <bool; a deleted resource keeps its current document with deleted=True>,
      "res":     {the FHIR JSON as stored, with id and meta set by the server},
      "_idx":    {search values extracted at write time, one key per search parameter code},
      "_acl":    {what the access policy filters on},
    }

A history document is the same with `_id` = "<type>/<id>/<v>", plus `type` and `id` fields.
`_idx` and `_acl` never leave the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol


@dataclass(frozen=True)
class Stored:
    """One version of a resource as read from the store."""
    resource_type: str
    id: str
    version: int
    last_updated: datetime
    deleted: bool
    resource: dict
    acl: dict | None = None     # None for history versions (the policy reads the current one)

    @classmethod
    def from_doc(cls, resource_type: str, doc: dict) -> "Stored":
        return cls(resource_type, doc["res"]["id"] if doc.get("res") else doc["_id"], doc["v"],
                   as_utc(doc["lu"]), bool(doc.get("deleted")), doc.get("res") or {}, doc.get("_acl"))


def as_utc(t: datetime) -> datetime:
    """Drivers hand back UTC under their own tzinfo classes (mongomock's FixedOffset, bson's utc)."""
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


@dataclass(frozen=True)
class Write:
    """One versioned write. expected_version None means 'must not exist yet'."""
    resource_type: str
    id: str
    resource: dict | None          # None for a delete
    index: dict
    acl: dict
    expected_version: int | None
    deleted: bool = False


class ResourceStore(Protocol):
    """What search and the access policy read through (storage/mongo.py is the implementation)."""
    def read(self, resource_type: str, id: str) -> Stored | None: ...
    def vread(self, resource_type: str, id: str, version: int) -> Stored | None: ...
    def find(self, resource_type: str, filter: dict, *, sort: list[tuple[str, int]] | None = None,
             limit: int = 0, skip: int = 0, projection: dict | None = None) -> list[dict]: ...
    def count(self, resource_type: str, filter: dict, limit: int = 0) -> int: ...
