"""Keyset paging: a page continues strictly after (or before) the last (first) row of the previous one
in the order (sort keys..., _id), so inserts and deletes elsewhere never make a page repeat or skip a row.

The `_page` token is opaque: JSON {a: anchor sort values, d: 1 next / -1 previous} sealed with AES-GCM
under a key of this process, the fingerprint of the criteria as associated data. A reader who sees a token
(in a trace, a log, a link) learns nothing of the row it continues from (issue 10: the anchor of a page is
the id and date of a resource), and a token altered in any way, or presented with other criteria, is a 400
before anything reaches the store.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fhir_server.errors import BadRequest


@dataclass(frozen=True)
class Cursor:
    anchor: tuple          # the sort values (then the _id) of the row the page starts after / ends before
    direction: int         # 1: rows after the anchor (next page), -1: rows before it (previous page)


def fingerprint(resource_type: str | None, criteria: list[tuple[str, str]]) -> str:
    data = orjson.dumps([resource_type, sorted(criteria)])
    return hashlib.sha256(data).hexdigest()[:16]


def _encode_value(v: Any) -> Any:
    return {"$d": v.isoformat()} if isinstance(v, datetime) else v


def _decode_value(v: Any) -> Any:
    return datetime.fromisoformat(v["$d"]) if isinstance(v, dict) and "$d" in v else v


# one key per process: a token outlives neither a restart nor the process that issued it (THREATS.md)
_KEY = AESGCM(os.urandom(32))
NONCE = 12


def seal(payload: bytes, context: str) -> str:
    """Encrypt and authenticate `payload`, bound to `context` (the criteria it belongs to)."""
    nonce = os.urandom(NONCE)
    return base64.urlsafe_b64encode(nonce + _KEY.encrypt(nonce, payload, context.encode())).decode().rstrip("=")


def unseal(token: str, context: str) -> bytes | None:
    """The payload, or None for anything this process did not seal for this context."""
    if not isinstance(token, str) or len(token) > 2048:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return _KEY.decrypt(raw[:NONCE], raw[NONCE:], context.encode()) if len(raw) > NONCE else None
    except (ValueError, InvalidTag):
        return None


def encode(cursor: Cursor, fp: str) -> str:
    return seal(orjson.dumps({"a": [_encode_value(v) for v in cursor.anchor], "d": cursor.direction}), fp)


def decode(token: str, fp: str, n_keys: int) -> Cursor:
    payload = unseal(token, fp)
    try:
        data = orjson.loads(payload) if payload is not None else None
        anchor = tuple(_decode_value(v) for v in data["a"])
        direction = int(data["d"])
        ok = direction in (1, -1) and len(anchor) == n_keys
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        ok = False
    if not ok:
        raise BadRequest("Invalid _page token: it does not belong to this search (repeat the search without it)",
                         expression="_page")
    return Cursor(anchor, direction)


def sort_values(doc: dict, sort: list[tuple[str, int]]) -> tuple:
    """The values a stored document has for the sort fields (None when absent)."""
    out = []
    for path, _ in sort:
        value: Any = doc
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        out.append(value)
    return tuple(out)


def _after(path: str, value: Any, direction: int) -> dict | None:
    """Rows strictly after `value` on one key in that key's order (missing values sort first ascending)."""
    if direction == 1:
        return {path: {"$ne": None}} if value is None else {path: {"$gt": value}}
    if value is None:
        return None
    return {"$or": [{path: {"$lt": value}}, {path: None}]}


def keyset_filter(sort: list[tuple[str, int]], anchor: tuple, forward: bool) -> dict:
    """Rows after the anchor (forward) or before it, in the order of `sort` (whose last key is unique)."""
    branches = []
    for i, (path, direction) in enumerate(sort):
        step = _after(path, anchor[i], direction if forward else -direction)
        if step is not None:
            equal = [{p: anchor[j]} for j, (p, _) in enumerate(sort[:i])]
            branches.append({"$and": equal + [step]} if equal else step)
    if not branches:
        return {"_id": {"$in": []}}
    return branches[0] if len(branches) == 1 else {"$or": branches}
