"""Who may create, change or delete what in a record (rules 10, 12, 13, 14, lifecycle, messaging)."""

from __future__ import annotations

from ..errors import Forbidden, MethodNotAllowed
from . import decisions as rules
from .acl import author_references, dmp_status
from .labels import HOLDER_SIDE, check_label_change, is_author
from .matrix import document_codes
from .policy import Decision, Policy

# resources whose content grants access to the record (decisions.py: who may grant); PractitionerRole is the
# directory, written by trusted systems only; Patient.generalPractitioner is the holder's own choice
GRANTING_TYPES = frozenset({"Consent", "Patient", "RelatedPerson", "CareTeam"})
# resources the holder side keeps themselves (ENS services); professionals' documents are not among them
HOLDER_WRITABLE = frozenset({"Observation", "QuestionnaireResponse", "Appointment", "Communication", "Consent",
                             "DocumentReference", "Binary", "Patient", "List"})


def check_write(policy: Policy, kind: str, resource_type: str, before: dict | None, after: dict | None,
                patients: list[str]) -> list[Decision]:
    """Raise when the write is refused; return the decisions taken (one per patient) for the trace."""
    decisions = [policy.decide(pid) for pid in patients]
    if resource_type == "DocumentReference":
        for decision in decisions or [Decision(True, "system", "no patient")]:
            check_label_change(policy.actor, decision, before, after)
        if before is not None and kind != "delete":
            _metadata_only(before, after)      # rule 13 binds every writer, trusted systems included
    if policy.actor.is_trusted_system:
        return decisions
    if not patients and resource_type == "Binary":
        return decisions   # content not yet tied to a record (ITI-65 lists it before its document): unreadable but to systems
    if not patients and resource_type not in ("Practitioner", "PractitionerRole", "Organization"):
        raise Forbidden(f"a {resource_type} must belong to a patient record to be written by this actor")
    if not patients:
        raise Forbidden("only trusted systems maintain the directory (Practitioner, PractitionerRole, Organization)")
    for pid, decision in zip(patients, decisions):
        _check_patient(policy, decision, pid, kind, resource_type, before, after)
    return decisions


def _check_patient(policy: Policy, decision: Decision, pid: str, kind: str, resource_type: str,
                   before: dict | None, after: dict | None) -> None:
    facts = policy.facts(pid)
    if facts is not None and facts.closed:
        raise Forbidden(f"the record of Patient/{pid} is closed: no new data (reactivate it first)")
    if not decision.allowed:
        raise Forbidden(decision.reason)
    if decision.relationship == "emergency" and not rules.EMERGENCY_MAY_WRITE:
        raise Forbidden("emergency access is read-only")
    if decision.relationship == "author" and (kind == "create" or resource_type != "DocumentReference"):
        raise Forbidden("no authorisation on this record: an author only manages the documents they wrote")
    if decision.relationship in HOLDER_SIDE:
        _check_holder_side(policy, pid, kind, resource_type, before, after)
    else:
        _check_professional(policy, kind, resource_type, before, after)
        check_feed(policy, decision, resource_type, before, after)


def _check_holder_side(policy: Policy, pid: str, kind: str, resource_type: str, before: dict | None,
                       after: dict | None) -> None:
    if resource_type not in HOLDER_WRITABLE:
        raise Forbidden(f"the holder does not write {resource_type} resources")
    if resource_type == "Patient":
        _dmp_status_unchanged(before, after)
    if resource_type == "Communication":
        _check_holder_message(policy, pid, kind, before, after)
    if resource_type == "DocumentReference" and before is None and not _deposited_by_holder(policy, pid, after):
        raise Forbidden("a document the holder deposits has the holder as its author (rule 14)")
    if resource_type == "DocumentReference" and before is not None:
        own = _deposited_by_holder(policy, pid, before)
        if kind == "delete" and not own:
            raise Forbidden("the holder cannot delete a document deposited by a professional (rule 12)")
        if kind != "delete" and not own:
            _only_labels_changed(before, after)


def _check_holder_message(policy: Policy, pid: str, kind: str, before: dict | None, after: dict | None) -> None:
    """ENS messaging: professionals start conversations; the holder replies within one, and only changes
    or withdraws their own messages."""
    mine = {policy.actor.reference, f"Patient/{pid}"}
    if before is not None and ((before.get("sender") or {}).get("reference")) not in mine:
        raise Forbidden("the holder changes or deletes only the messages they sent")
    if kind == "delete":
        return
    replies_to = [r.get("reference") for r in (after or {}).get("inResponseTo") or []]
    if not replies_to:
        raise Forbidden("the holder may reply within a conversation (inResponseTo) but not start one")
    for reference in replies_to:
        kind_, _, id = (reference or "").partition("/")
        doc = policy.store.read_doc("Communication", id) if kind_ == "Communication" else None
        if doc is None or doc.get("deleted") or pid not in (doc.get("_acl") or {}).get("patients", []):
            raise Forbidden(f"inResponseTo must name a message of this record ({reference} is not one)")


def _check_professional(policy: Policy, kind: str, resource_type: str, before: dict | None, after: dict | None) -> None:
    if resource_type in GRANTING_TYPES:
        raise Forbidden(f"professionals do not write {resource_type} resources: they grant access, and only "
                        "the holder grants it (consents through $authorize; care teams, the identity and the legal "
                        "representatives through the establishments' and the ENS's trusted systems)")
    if resource_type != "DocumentReference" or before is None:
        return
    if kind == "delete" and not is_author(policy.actor, before):
        raise Forbidden("only the author deletes a document (rule 12)")
    if kind != "delete":
        if before.get("status") != (after or {}).get("status") and not is_author(policy.actor, before):
            raise Forbidden("only the author changes a document's status (rule 12)")


def check_feed(policy: Policy, decision: Decision, resource_type: str, before: dict | None,
               after: dict | None) -> None:
    """The access matrix on writes: a profession feeds only the document classes and types it may
    (decisions.ACCESS_MATRIX_ON_WRITES); the médecin traitant is not narrowed, like on reads."""
    if resource_type != "DocumentReference" or before is not None or after is None \
            or decision.relationship == "medecin_traitant":
        return
    rights = policy.rights()
    if not rights.feeds(document_codes(after or {})):
        raise Forbidden(f"the access matrix ({policy.matrix.version}, profile {'/'.join(rights.profiles)}) "
                        "does not let this profession feed a document of this class or type")


def _metadata_only(before: dict, after: dict | None) -> None:
    """Rule 13 (PDSm): only status, securityLabel and the is-archived extension change."""
    changed = {k for k in set(before) | set(after or {})
               if k not in rules.DOCUMENT_MUTABLE_ELEMENTS and before.get(k) != (after or {}).get(k)}
    if changed == {"extension"} and _extensions_but_archived(before) == _extensions_but_archived(after or {}):
        return
    if changed:
        raise MethodNotAllowed(f"a DocumentReference's {', '.join(sorted(changed))} cannot change: only status, "
                               "securityLabel and the is-archived extension (replace the document instead)")


def _only_labels_changed(before: dict, after: dict | None) -> None:
    changed = {k for k in set(before) | set(after or {})
               if k not in ("securityLabel", "meta", "text") and before.get(k) != (after or {}).get(k)}
    if changed:
        raise Forbidden("the holder cannot alter a document deposited by a professional (rule 12): "
                        f"{', '.join(sorted(changed))}")


def _extensions_but_archived(resource: dict) -> list:
    """The is-archived flag and the hidden-until date travel with status and labels (rule 13)."""
    return [e for e in resource.get("extension") or []
            if e.get("url") not in (rules.IS_ARCHIVED_URL, rules.HIDDEN_UNTIL_URL)]


def _deposited_by_holder(policy: Policy, pid: str, document: dict | None) -> bool:
    """Rule 14: written by the patient (or by the representative acting for them)."""
    authors = set(author_references(document or {}))
    return rules.HOLDER_MAY_ALTER_OWN_DEPOSITS and bool(authors & {policy.actor.reference, f"Patient/{pid}"})


def _dmp_status_unchanged(before: dict | None, after: dict | None) -> None:
    if dmp_status(before or {}) != dmp_status(after or {}):
        raise Forbidden("the record status changes only through $close-dmp and $reactivate-dmp")
