"""api/headers.py answers every header lookup as Starlette's `request.headers` does."""

from starlette.requests import Request

from fhir_server.api.headers import headers_of


def test_headers_read_once_answer_as_starlette_does():
    raw = [(b"accept", b"application/fhir+json"), (b"prefer", b"return=minimal"), (b"prefer", b"handling=strict"),
           (b"X-Mixed-Case", b"kept"), (b"if-match", 'W/"3" \xe9'.encode("latin-1")), (b"content-length", b"0")]
    request = Request({"type": "http", "method": "GET", "path": "/fhir/Patient", "headers": raw})
    names = ["accept", "prefer", "x-mixed-case", "if-match", "content-length", "if-none-exist", "authorization"]
    assert {n: headers_of(request).get(n) for n in names} == {n: request.headers.get(n) for n in names}
    assert headers_of(request)["prefer"] == "return=minimal"              # the first of repeated headers
    assert headers_of(request) is headers_of(Request(request.scope))     # read once per request
    assert ("transfer-encoding" in headers_of(request)) is ("transfer-encoding" in request.headers) is False
