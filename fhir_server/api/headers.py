"""A FHIR request's headers, read once: a name → value dict, built from the ASGI scope the first time it is asked for.

Starlette's `request.headers.get` walks the raw header list on every call and raises (and catches) a KeyError for
each absent header; a FHIR request asks for about ten (Accept, Authorization, Content-Type, If-Match, Prefer...),
most of them absent, which cost several per cent of a read. Same answers, for names asked in lower case (ASGI
servers give them so): values decoded as Latin-1, and the first of repeated headers wins.
"""

from __future__ import annotations

from starlette.requests import Request

_SCOPE_KEY = "fhir_server.headers"


def headers_of(request: Request) -> dict[str, str]:
    scope = request.scope
    headers = scope.get(_SCOPE_KEY)
    if headers is None:
        headers = {}
        for name, value in scope.get("headers", ()):
            headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        scope[_SCOPE_KEY] = headers
    return headers
