"""The error tree: every failure the server reports becomes one OperationOutcome.

    FhirError                      (status, issue code)
    ├── BadRequest                 400 invalid         malformed request, bad parameter
    ├── TooCostly                  400 too-costly      a search that used up its time budget
    ├── Unauthorized               401 login           missing / invalid token
    ├── Forbidden                  403 forbidden       valid actor, no right
    ├── NotFound                   404 not-found
    │   └── Hidden                 404 not-found       the access policy hides it (traced as a refusal)
    ├── MethodNotAllowed           405 not-supported
    ├── NotAcceptable              406 not-supported   a format other than JSON
    ├── Conflict                   409 conflict        id or version clash
    │   └── VersionRace            409 conflict        a concurrent write took the version (retried w/o If-Match)
    ├── Gone                       410 deleted         read of a deleted resource
    ├── PreconditionFailed         412 conflict        If-Match / conditional ambiguity
    ├── UnsupportedMediaType       415 not-supported   a body that is not FHIR JSON
    ├── PayloadTooLarge            413 too-long        a request body over the configured size
    ├── Unprocessable              422 processing      valid JSON, invalid resource
    ├── InternalError              500 exception       a bug, traced and reported without its stack trace
    └── ServiceUnavailable         503 transient       a required side effect (audit) failed

The HTTP layer turns any of them into a response with one handler; nothing else builds
OperationOutcomes for errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Issue:
    diagnostics: str
    code: str = "invalid"
    severity: str = "error"
    expression: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        issue: dict = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


def operation_outcome(issues: list[Issue]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [i.to_json() for i in issues]}


class FhirError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, diagnostics: str, *, expression: str | list[str] | None = None,
                 code: str | None = None, issues: list[Issue] | None = None):
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        if isinstance(expression, str):
            expression = [expression]
        self.issues = issues or [Issue(diagnostics, code or self.code, "error", expression or [])]

    def outcome(self) -> dict:
        return operation_outcome(self.issues)


class BadRequest(FhirError):
    status, code = 400, "invalid"


class TooCostly(FhirError):
    status, code = 400, "too-costly"


class Unauthorized(FhirError):
    status, code = 401, "login"


class Forbidden(FhirError):
    status, code = 403, "forbidden"


class NotFound(FhirError):
    status, code = 404, "not-found"


class Hidden(NotFound):
    """Answered as 'not found' because its existence is itself sensitive (a masked or hidden document)."""


class MethodNotAllowed(FhirError):
    status, code = 405, "not-supported"


class NotAcceptable(FhirError):
    status, code = 406, "not-supported"


class Conflict(FhirError):
    status, code = 409, "conflict"


class VersionRace(Conflict):
    """A versioned write lost its compare-and-set to a concurrent writer of the same resource: a write
    without If-Match is retried on the new current version (services/dispatch.py), others see a 409/412."""


class Gone(FhirError):
    status, code = 410, "deleted"


class PreconditionFailed(FhirError):
    status, code = 412, "conflict"


class UnsupportedMediaType(FhirError):
    status, code = 415, "not-supported"


class PayloadTooLarge(FhirError):
    status, code = 413, "too-long"


class Unprocessable(FhirError):
    status, code = 422, "processing"


class InternalError(FhirError):
    status, code = 500, "exception"


class ServiceUnavailable(FhirError):
    status, code = 503, "transient"
