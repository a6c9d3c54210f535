"""Rendering: Outcome or FhirError → HTTP response with the FHIR headers (ETag, Last-Modified, Location)."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi.responses import Response

from ..errors import FhirError, operation_outcome, Issue
from ..services.context import Outcome
from .formats import JSON, dumps, media_type


def fhir_response(body: dict | None, status: int = 200, headers: dict | None = None, fmt: str = JSON) -> Response:
    content = dumps(body, fmt) if body is not None else b""
    return Response(content, status_code=status, media_type=media_type(fmt) if body is not None else None,
                    headers=headers)


WRITES = frozenset({"create", "update", "patch"})


def render(out: Outcome, base_url: str, prefer_return: str, kind: str = "", fmt: str = JSON) -> Response:
    """`kind` is the interaction's: a write names what it wrote in Location and Content-Location even when it
    answers 200 (update, patch, conditional update, a conditional create that matched), since HAPI's client
    takes `MethodOutcome.getId()` from them; any versioned resource answer gets Content-Location."""
    headers: dict[str, str] = {}
    if out.version is not None:
        headers["ETag"] = f'W/"{out.version}"'
    if out.last_modified is not None:
        headers["Last-Modified"] = http_date(out.last_modified)
    location = out.location(base_url)
    if location and (out.created or kind in WRITES):
        headers["Location"] = location
    if location and out.status < 300:
        headers["Content-Location"] = location
    return fhir_response(_body(out, prefer_return), out.status, headers, fmt)


def _body(out: Outcome, prefer_return: str) -> dict | None:
    if out.resource is None or out.resource.get("resourceType") == "Bundle":
        return out.resource or out.message
    if prefer_return == "minimal":
        return None
    if prefer_return == "OperationOutcome":
        return out.message or operation_outcome([Issue(f"{out.resource_type}/{out.id} version {out.version} stored",
                                                       "informational", "information")])
    return out.resource


def error_response(error: FhirError, fmt: str = JSON) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="dmp-fhir"'} if error.status == 401 else None
    return fhir_response(error.outcome(), error.status, headers, fmt)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(moment: datetime) -> str:
    """The IMF-fixdate of RFC 9110 (`Sun, 06 Nov 1994 08:49:37 GMT`), what email.utils.format_datetime(usegmt=True)
    writes, for any aware datetime, in a quarter of its time."""
    t = moment.astimezone(timezone.utc)
    return (f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year:04d} "
            f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} GMT")
