"""The hash chain over each patient's traces: every trace carries the hash of the one before it, so that
an edit or a deletion in the database breaks the chain where it happened."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

GENESIS = "0" * 64
SYSTEM_CHAIN = "_system"   # traces that name no patient


def link_hash(resource: dict, acl: dict, key: str, seq: int, previous: str) -> str:
    """Covers the trace and its access marks: hiding a trace from the holder in the database breaks the chain."""
    payload = orjson.dumps({"key": key, "seq": seq, "prev": previous, "res": resource, "acl": acl},
                           option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()


@dataclass
class BrokenLink:
    chain: str
    seq: int
    trace_id: str
    why: str

    def __str__(self) -> str:
        return f"chain {self.chain}: trace {self.trace_id} (#{self.seq}) {self.why}"


def verify_chain(key: str, docs: list[dict]) -> BrokenLink | None:
    """`docs` are one chain's stored traces in `_chain.seq` order; the first broken link, if any."""
    previous, expected_seq = GENESIS, 1
    for doc in docs:
        chain = doc.get("_chain") or {}
        seq = chain.get("seq")
        if seq != expected_seq:
            return BrokenLink(key, expected_seq, doc["_id"], f"is #{seq}: trace #{expected_seq} is missing")
        if chain.get("prev") != previous:
            return BrokenLink(key, seq, doc["_id"], "does not point at the trace before it")
        if link_hash(doc["res"], doc.get("_acl") or {}, key, seq, previous) != chain.get("hash"):
            return BrokenLink(key, seq, doc["_id"], "was altered after it was written")
        previous, expected_seq = chain["hash"], seq + 1
    return None
