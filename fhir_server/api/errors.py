"""One handler per failure family; every error leaves as an OperationOutcome, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from ..errors import FhirError, Issue, operation_outcome
from .formats import request_format
from .responses import error_response, fhir_response

log = logging.getLogger("fhir_server")
ISSUE_CODE = {404: "not-found", 405: "not-supported", 401: "login", 403: "forbidden"}


def install(app: FastAPI) -> None:
    @app.exception_handler(FhirError)
    async def fhir_error(request: Request, exc: FhirError):
        return error_response(exc, request_format(request))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        code = ISSUE_CODE.get(exc.status_code, "processing")
        return fhir_response(operation_outcome([Issue(str(exc.detail), code)]), exc.status_code,
                             fmt=request_format(request))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return fhir_response(operation_outcome([Issue("malformed request", "invalid")]), 400,
                             fmt=request_format(request))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        return unexpected_response(request, exc)


def unexpected_response(request: Request, exc: Exception):
    """A bug: logged with its stack trace, answered with the request id only."""
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    issue = Issue(f"internal error (request {getattr(request.state, 'request_id', '?')})", "exception")
    return fhir_response(operation_outcome([issue]), 500, fmt=request_format(request))
