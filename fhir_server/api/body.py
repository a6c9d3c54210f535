"""Reading a request body within the configured size, and parsing it within the configured JSON shape."""

from __future__ import annotations

from fastapi import Request

from ..config import Settings
from ..errors import BadRequest, PayloadTooLarge
from ..limits import check_json_shape, whole_number
from ..validation.structure import parse_json
from .headers import headers_of


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes `limit` bytes: the declared Content-Length first,
    then while it streams in (a chunked body declares nothing), so an oversized body is never buffered."""
    headers = headers_of(request)
    declared = headers.get("content-length")
    if declared is None and request.method in ("GET", "HEAD") and "transfer-encoding" not in headers:
        # an HTTP/1.1 message declaring neither has no body (RFC 9112, 6.3); HTTP/2 may send one undeclared, but
        # no read or search reads the body of a GET: nothing to wait for
        request._body = b""
        return b""
    if declared is not None:
        size = whole_number(declared.strip())
        if size is None:
            raise BadRequest("Content-Length must be a number of bytes")
        if size > limit:
            raise _too_large(limit)
    chunks, received = [], 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body    # Starlette's cache: a later `await request.body()` gets the same bytes
    return body


def parse_body(raw: bytes, settings: Settings) -> object:
    value = parse_json(raw)
    check_json_shape(value, settings.max_json_depth, settings.max_json_array)
    return value


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {limit} bytes (DMP_FHIR_MAX_BODY_BYTES)")
