"""Bearer tokens: verify (HS256 shared key, or RS256/ES256 from a JWKS file) and, in development, mint."""

from __future__ import annotations

import json
import time
import uuid

from jose import JWTError, jwt

from ..config import Settings
from ..errors import BadRequest, Unauthorized
from .actor import ACCESS_MODES, Actor, actor_from_claims

VERIFIED_CACHE_SIZE = 10_000
CLOCK_SKEW_SECONDS = 60          # how far ahead of ours an issuer's clock may be (nbf, iat)
LAST_NUMERIC_DATE = 253402300799  # 9999-12-31T23:59:59Z: a NumericDate beyond it is not a date
DEFAULT_SCOPES = {"Practitioner": "user/*.cruds", "Patient": "patient/*.cruds", "RelatedPerson": "patient/*.cruds",
                  "Organization": "system/*.cruds", "Device": "system/*.cruds"}


class TokenService:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.secret = settings.hs256_secret()
        self.jwks = json.loads(settings.jwks_file.read_text()) if settings.jwks_file else None
        self._verified: dict[str, tuple[float, Actor]] = {}

    def verify(self, token: str) -> Actor:
        """The actor of a valid token; a token seen before is not checked again until it expires
        (signature checking is the largest share of a read's cost)."""
        cached = self._verified.get(token)
        if cached is not None and cached[0] > time.time():
            return cached[1]
        claims = self._decode(token)
        check_times(claims, time.time())
        actor = actor_from_claims(claims)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (float(claims["exp"]), actor)
        return actor

    def _decode(self, token: str) -> dict:
        try:
            header = jwt.get_unverified_header(token)
        except JWTError:
            raise Unauthorized("malformed bearer token") from None
        alg = header.get("alg")
        if alg == "HS256" and self.secret:
            key, algorithms = self.secret, ["HS256"]
        elif alg in ("RS256", "ES256") and self.jwks:
            key, algorithms = self.jwks, [alg]
        else:
            # 'none' and any algorithm we were not configured for
            raise Unauthorized(f"token algorithm '{alg}' is not accepted")
        # exp, nbf and iat are checked by check_times: python-jose takes "9999999999" for a date and fails
        # with a TypeError on null, a list or an object
        options = {"verify_aud": bool(self.settings.jwt_audience), "verify_exp": False, "verify_nbf": False,
                   "verify_iat": False}
        try:
            return jwt.decode(token, key, algorithms=algorithms, audience=self.settings.jwt_audience,
                              issuer=self.settings.jwt_issuer, options=options)
        except JWTError as e:
            raise Unauthorized(f"invalid token: {e}") from None

    def mint(self, sub: str, *, scope: str | None = None, mode: str = "normal", reason: str | None = None,
             organization: str | None = None, ttl_seconds: int = 3600) -> str:
        """A signed development token (CONTRACT.md `dmp-fhir token`, `POST /dev/token`)."""
        if not self.secret:
            raise BadRequest("tokens can be minted only with an HS256 key (development mode or DMP_FHIR_JWT_SECRET)")
        if mode not in ACCESS_MODES:
            raise BadRequest(f"unknown mode '{mode}' (expected one of {', '.join(ACCESS_MODES)})")
        if mode == "bris_de_glace" and not (reason or "").strip():
            raise BadRequest("mode bris_de_glace needs a reason")
        now = int(time.time())
        claims = {"sub": sub, "scope": scope or DEFAULT_SCOPES.get(sub.split("/", 1)[0], ""),
                  "purpose_of_use": mode, "iat": now, "exp": now + ttl_seconds, "jti": uuid.uuid4().hex}
        if reason:
            claims["access_reason"] = reason
        if organization:
            claims["organization"] = organization
        if self.settings.jwt_issuer:
            claims["iss"] = self.settings.jwt_issuer
        if self.settings.jwt_audience:
            claims["aud"] = self.settings.jwt_audience
        try:
            actor_from_claims(claims)  # refuse to mint what verify would refuse
        except Unauthorized as e:
            raise BadRequest(e.diagnostics) from None
        return jwt.encode(claims, self.secret, algorithm="HS256")


def check_times(claims: dict, now: float) -> None:
    """RFC 7519 §4.1.4-6: `exp` required and in the future; `nbf` and `iat`, when present, not in the future.
    Each must be a number of seconds (a NumericDate): a string, null, a list or an object is refused."""
    for name in ("exp", "nbf", "iat"):
        if (name in claims or name == "exp") and not _numeric_date(claims.get(name)):
            raise Unauthorized(f"token '{name}' must be a NumericDate (seconds since 1970-01-01)")
    if claims["exp"] <= now:
        raise Unauthorized("token expired")
    if "nbf" in claims and claims["nbf"] > now + CLOCK_SKEW_SECONDS:
        raise Unauthorized("token not yet valid (nbf)")
    if "iat" in claims and claims["iat"] > now + CLOCK_SKEW_SECONDS:
        raise Unauthorized("token issued in the future (iat)")


def _numeric_date(value: object) -> bool:
    # a bound, not math.isfinite: json gives ints too large for a float, and NaN fails every comparison
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= LAST_NUMERIC_DATE
