"""Random ids (fhir_server/ids.py) are what uuid.uuid4 gives: version 4 UUIDs of the RFC 4122 variant, and
32-digit hex request ids; never twice the same."""

from __future__ import annotations

import re
import uuid

from fhir_server.ids import random_hex, uuid4_text


def test_resource_and_trace_ids_are_version_4_uuids_never_repeated():
    ids = [uuid4_text() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    # every bit outside the version and variant varies
    assert {text[14] for text in ids} == {"4"} and {text[19] for text in ids} == set("89ab")
    assert all(len({text[i] for text in ids}) == 16 for i in range(36) if i not in (8, 13, 14, 18, 19, 23))


def test_request_ids_are_32_lowercase_hex_digits_never_repeated():
    ids = [random_hex() for _ in range(5000)]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[0-9a-f]{32}", text) for text in ids)
