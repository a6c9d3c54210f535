"""Random identifiers: resource and trace ids (UUID version 4, as uuid.uuid4 gives) and request ids.

Every request makes at least two (its request id, its trace's id): built from os.urandom directly, without
uuid.UUID's objects, they cost a fifth. Random, not counted: a counter in an id would tell how many accesses
happened between two of one's own."""

from __future__ import annotations

import os


def uuid4_text() -> str:
    """A random UUID (version 4, RFC 4122 variant) in its 36-character form."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def random_hex() -> str:
    """128 random bits as 32 lowercase hex digits (uuid.uuid4().hex's form)."""
    return os.urandom(16).hex()
