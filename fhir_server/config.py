"""Settings, read from the environment (prefix DMP_FHIR_, names from CONTRACT.md).

Built inside create_app / the CLI, never at import, so tests pass their own.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_PATH = Path(".dmp-fhir") / "dev-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DMP_FHIR_", extra="ignore")

    mongodb_uri: str | None = None
    db: str = "dmp"
    base_url: str | None = None
    jwt_secret: str | None = None
    jwks_file: Path | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    # where the development key lives; relative to the working directory
    dev_secret_file: Path = DEV_SECRET_PATH
    # L1111-14 and R1111-50: the age at which a legal representative's access ends (DMP_FHIR_AGE_OF_MAJORITY)
    age_of_majority: int = Field(default=18, ge=1, le=30)
    # the access matrix by profession (access/matrix.py); unset: definitions/access-matrix.json
    access_matrix_file: Path | None = None
    # bounded work for every request (issue 9; the README's "Limits" table): DMP_FHIR_MAX_BODY_BYTES …
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)      # 413 beyond
    max_json_depth: int = Field(default=100, ge=8)                     # nested arrays/objects of a body
    max_json_array: int = Field(default=10_000, ge=10)                 # items of any one array of a body
    max_param_repeats: int = Field(default=20, ge=1)                   # occurrences of one query parameter
    max_params: int = Field(default=100, ge=1)                         # query parameters in all
    max_param_values: int = Field(default=100, ge=1)                   # comma-separated values of one parameter
    patch_max_operations: int = Field(default=100, ge=1)               # JSON Patch / FHIRPath Patch operations
    patch_max_result_bytes: int = Field(default=1024 * 1024, ge=1024)  # a patched resource, as JSON (PUT for more)
    search_time_budget_ms: int = Field(default=10_000, ge=1)           # one search's store queries, in all
    # `info` writes one access-log line per request (DMP_FHIR_LOG_LEVEL, or `dmp-fhir serve --log-level`)
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @property
    def embedded(self) -> bool:
        return not self.mongodb_uri

    @property
    def development_mode(self) -> bool:
        """No configured key at all: tokens are signed with a local random key (CONTRACT.md)."""
        return not self.jwt_secret and not self.jwks_file

    def hs256_secret(self) -> str | None:
        if self.jwt_secret:
            return self.jwt_secret
        if self.development_mode:
            return load_or_create_dev_secret(self.dev_secret_file)
        return None

    def public_base(self, host: str = "127.0.0.1", port: int = 8080) -> str:
        return (self.base_url or f"http://{host}:{port}/fhir").rstrip("/")


def load_or_create_dev_secret(path: Path) -> str:
    """The development key is made once and shared by `serve` and `token` through the file."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # exclusive create: two processes starting together end up with the same key
    try:
        with open(path, "x") as f:
            f.write(secret)
        path.chmod(0o600)
    except FileExistsError:
        return path.read_text().strip()
    return secret
