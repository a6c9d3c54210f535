"""The Actor: who makes a request, as what, in which access mode — built from the token's claims."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Unauthorized

ACCESS_MODES = ("normal", "bris_de_glace", "centre_15")
ACTOR_KINDS = {
    "Patient": "patient",
    "RelatedPerson": "related_person",
    "Practitioner": "practitioner",
    "Organization": "organization",
    "Device": "device",
}
# interaction -> SMART v2 permission letter
PERMISSION = {"create": "c", "read": "r", "vread": "r", "history": "r", "update": "u", "patch": "u",
              "delete": "d", "search": "s", "operation": "r"}
# SMART v1 suffixes, still sent by many clients
V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}


@dataclass(frozen=True)
class Scope:
    context: str        # patient | user | system
    resource_type: str  # a type or *
    permissions: str    # subset of "cruds"

    @classmethod
    def parse(cls, text: str) -> "Scope | None":
        """`user/*.cruds`, `patient/Observation.rs`, `system/*.read`; anything else (openid, launch…) is None."""
        context, slash, rest = text.partition("/")
        if not slash or context not in ("patient", "user", "system") or "." not in rest:
            return None
        resource_type, _, perms = rest.partition(".")
        perms = V1_PERMISSIONS.get(perms, perms.split("?")[0])
        if not perms or set(perms) - set("cruds"):
            return None
        return cls(context, resource_type, perms)

    def allows(self, resource_type: str, letter: str) -> bool:
        return self.resource_type in ("*", resource_type) and letter in self.permissions


@dataclass(frozen=True)
class Actor:
    reference: str                      # Practitioner/123 …
    scopes: tuple[Scope, ...] = ()
    access_mode: str = "normal"
    reason: str | None = None
    organization: str | None = None
    token_id: str | None = None
    client_ip: str | None = field(default=None, compare=False)

    @property
    def resource_type(self) -> str:
        return self.reference.split("/", 1)[0]

    @property
    def id(self) -> str:
        return self.reference.split("/", 1)[1]

    @property
    def kind(self) -> str:
        if self.is_trusted_system:
            return "system"
        return ACTOR_KINDS[self.resource_type]

    @property
    def is_trusted_system(self) -> bool:
        """CONTRACT.md: system/ scopes held by a Device or Organization."""
        return self.resource_type in ("Device", "Organization") and any(s.context == "system" for s in self.scopes)

    def may(self, interaction: str, resource_type: str) -> bool:
        letter = PERMISSION[interaction]
        return any(s.allows(resource_type, letter) for s in self.scopes)


def actor_from_claims(claims: dict) -> Actor:
    sub = claims.get("sub")
    if not isinstance(sub, str) or sub.split("/", 1)[0] not in ACTOR_KINDS or not sub.partition("/")[2]:
        raise Unauthorized("token 'sub' must be a reference such as Practitioner/ID")
    mode = claims.get("purpose_of_use") or "normal"
    if mode not in ACCESS_MODES:
        raise Unauthorized(f"unknown purpose_of_use '{mode}' (expected one of {', '.join(ACCESS_MODES)})")
    scope_text = claims.get("scope") or ""
    if not isinstance(scope_text, str):
        raise Unauthorized("token 'scope' must be a space-separated string")
    scopes = tuple(s for s in (Scope.parse(t) for t in scope_text.split()) if s)
    organization = claims.get("organization")
    reason = claims.get("access_reason")
    return Actor(reference=sub, scopes=scopes, access_mode=mode,
                 reason=reason if isinstance(reason, str) and reason.strip() else None,
                 organization=organization if isinstance(organization, str) else None,
                 token_id=claims.get("jti") if isinstance(claims.get("jti"), str) else None)
