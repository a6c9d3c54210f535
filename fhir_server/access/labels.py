"""Who may set or lift each DMP visibility label (rules 4, 6, 7, 8), whichever way the change arrives:
a custom operation, PATCH, update or create all call check_label_change."""

from __future__ import annotations

from ..auth.actor import Actor
from ..errors import BadRequest, Forbidden
from .acl import author_references, visibility_labels
from .decisions import (ALLOW_INVISIBLE_PATIENT_WITH_MASQUE_PS, HIDDEN_UNTIL_URL, INVISIBLE_PATIENT,
                        INVISIBLE_REPRESENTANTS_LEGAUX, MASKED_AT_REQUEST_URL, MASQUE_PS,
                        PROFESSIONAL_MASKS_ON_REQUEST, REHIDING_ALLOWED, VISIBILITY_SYSTEM)
from .policy import Decision
from .relationships import identities

HOLDER_SIDE = ("holder", "legal_representative")
PROFESSIONAL_SIDE = ("medecin_traitant", "care_team", "authorised", "emergency", "author")
MAY_MASK_ON_REQUEST = ("medecin_traitant", "care_team", "authorised")


def check_label_change(actor: Actor, decision: Decision, before: dict | None, after: dict | None) -> None:
    old = set(visibility_labels(before or {}))
    new = set(visibility_labels(after or {}))
    if {INVISIBLE_PATIENT, MASQUE_PS} <= new and not ALLOW_INVISIBLE_PATIENT_WITH_MASQUE_PS and new != old:
        raise BadRequest("a document cannot be both INVISIBLE_PATIENT and MASQUE_PS (rule 8)",
                         expression="DocumentReference.securityLabel")
    if actor.is_trusted_system:
        return
    document = after or before or {}
    if INVISIBLE_PATIENT in new and INVISIBLE_PATIENT in old and _hidden_until(before) != _hidden_until(after):
        _require(_may_add(INVISIBLE_PATIENT, actor, decision, document), "changing how long a document is hidden",
                 INVISIBLE_PATIENT, decision)
    for code in sorted(new - old):
        _require(_may_add(code, actor, decision, document), f"adding {code}", code, decision)
    for code in sorted(old - new):
        _require(_may_remove(code, actor, decision, document), f"removing {code}", code, decision)


def check_rehiding(before_acl: dict | None, after_acl: dict | None) -> None:
    """decisions.REHIDING_ALLOWED: a document revealed to the holder (by a professional, or at the end of its
    month) is not hidden from them again, whoever asks."""
    if REHIDING_ALLOWED or not before_acl or not after_acl:
        return
    was_hidden = INVISIBLE_PATIENT in before_acl.get("labels", [])
    if INVISIBLE_PATIENT in after_acl.get("labels", []) and not was_hidden and before_acl.get("revealed"):
        raise Forbidden("this document was already revealed to the holder: it cannot be hidden again (rule 6)",
                        expression="DocumentReference.securityLabel")


def _requested_by_holder(actor: Actor, document: dict) -> bool:
    """decisions.py: the MASQUE_PS label records that the holder asked this professional."""
    holder = (document.get("subject") or {}).get("reference")
    for label in document.get("securityLabel") or []:
        if not any(c.get("system") == VISIBILITY_SYSTEM and c.get("code") == MASQUE_PS for c in label.get("coding") or []):
            continue
        for ext in label.get("extension") or []:
            if ext.get("url") == MASKED_AT_REQUEST_URL:
                parts = {p.get("url"): (p.get("valueReference") or {}).get("reference") for p in ext.get("extension") or []}
                return bool(holder) and parts.get("requestedBy") == holder and parts.get("recordedBy") == actor.reference
    return False


def _hidden_until(document: dict | None) -> list:
    return [e for e in (document or {}).get("extension") or [] if e.get("url") == HIDDEN_UNTIL_URL]


def is_author(actor: Actor, document: dict) -> bool:
    return bool(identities(actor) & set(author_references(document)))


def _may_add(code: str, actor: Actor, decision: Decision, document: dict) -> bool:
    if code == MASQUE_PS:
        return decision.relationship in HOLDER_SIDE or (
            PROFESSIONAL_MASKS_ON_REQUEST and decision.relationship in MAY_MASK_ON_REQUEST
            and _requested_by_holder(actor, document))
    # INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX: the author professional (or their establishment)
    return decision.relationship in PROFESSIONAL_SIDE and is_author(actor, document)


def _may_remove(code: str, actor: Actor, decision: Decision, document: dict) -> bool:
    if code == MASQUE_PS:
        return decision.relationship in HOLDER_SIDE
    if code == INVISIBLE_PATIENT:
        return decision.relationship in PROFESSIONAL_SIDE   # any professional with access, after the consultation
    if code == INVISIBLE_REPRESENTANTS_LEGAUX:
        return (decision.relationship in PROFESSIONAL_SIDE and is_author(actor, document)) \
            or decision.relationship == "holder"
    return False


def _require(allowed: bool, what: str, code: str, decision: Decision) -> None:
    if not allowed:
        raise Forbidden(f"{what} is not allowed to this actor ({decision.relationship}): "
                        f"{_WHO[code]}", expression="DocumentReference.securityLabel")


_WHO = {
    MASQUE_PS: "only the holder or a legal representative masks or unmasks a document; a professional with access "
               "masks it at the holder's request ($mask with requestedBy = the holder)",
    INVISIBLE_PATIENT: "only the author hides a document from the patient; a professional with access reveals it",
    INVISIBLE_REPRESENTANTS_LEGAUX: "only the author hides a document from the legal representatives",
}
