"""Communications written by the server (DMP_RULES rules 6 and 9):
- after an emergency access, to the holder and the médecins traitants (mode, actor, time, reason);
- when a document has stayed hidden from the holder for 14 days: "your record was updated, see a professional";
- when a document is added to the record, or becomes visible to the holder (notify_new_document).
Each notice is claimed once in the `notices` collection, so repeating the trigger never repeats the message."""

from __future__ import annotations

from datetime import datetime

from ..access.decisions import HIDDEN_NOTICE_AFTER, INVISIBLE_REPRESENTANTS_LEGAUX, VISIBILITY_SYSTEM
from ..auth.actor import Actor, Scope
from ..errors import Conflict
from ..storage.mongo import MongoStore
from .context import Context
from .writing import instant, new_id, store_version

NOTICES = "notices"
SERVER = {"reference": "Device/dmp-fhir-server", "display": "Mon espace santé / DMP"}
CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/communication-category",
                        "code": "notification"}]}
SERVER_ACTOR = Actor(reference="Device/dmp-fhir-server", scopes=(Scope("system", "*", "cruds"),))


def notify_emergency(ctx: Context, patient_id: str) -> None:
    """Once per actor, patient, mode and day: a trace exists for every access, the message says it happened."""
    actor = ctx.actor
    key = f"emergency/{patient_id}/{actor.reference}/{actor.access_mode}/{ctx.now.date().isoformat()}"
    if not _claim(ctx.store, key, ctx.now):
        return
    facts = ctx.policy.facts(patient_id)
    doctors = sorted(facts.medecins_traitants) if facts else []
    text = (f"Accès en urgence ({actor.access_mode}) à votre dossier médical partagé par {actor.reference}"
            f"{' pour ' + actor.organization if actor.organization else ''} le {instant(ctx.now)}"
            f"{'. Motif : ' + actor.reason if actor.reason else ''}.")
    _send(ctx, patient_id, [f"Patient/{patient_id}", *doctors], text, actor.access_mode)


def notify_hidden_documents(store: MongoStore, settings, now: datetime) -> int:
    """Tell each holder whose document has been hidden from them for 14 days (run by serve and `dmp-fhir notify`)."""
    due = {"deleted": False, "_acl.hidden_since": {"$lte": now - HIDDEN_NOTICE_AFTER}, "_acl.hidden_until": {"$gt": now}}
    ctx = Context(store=store, settings=settings, actor=SERVER_ACTOR, base_url=settings.public_base(), now=now)
    sent = 0
    for doc in store.find("DocumentReference", due):
        for patient_id in doc["_acl"]["patients"]:
            if _claim(store, f"hidden14/{doc['_id']}/{doc['_acl']['hidden_since'].isoformat()}/{patient_id}", now):
                _send(ctx, patient_id, [f"Patient/{patient_id}"],
                      "Votre dossier médical partagé a été mis à jour. Nous vous invitons à consulter un "
                      "professionnel de santé.", None)
                sent += 1
    return sent


def _claim(store: MongoStore, key: str, now: datetime) -> bool:
    try:
        store.insert(NOTICES, {"_id": key, "at": now})
    except Conflict:
        return False
    return True


def _send(ctx: Context, patient_id: str, recipients: list[str], text: str, mode: str | None, *,
          about: str | None = None, secret: bool = False) -> None:
    message = {"resourceType": "Communication", "status": "completed", "category": [CATEGORY],
               "subject": {"reference": f"Patient/{patient_id}"}, "sent": instant(ctx.now), "sender": SERVER,
               "recipient": [{"reference": r} for r in recipients], "payload": [{"contentString": text}]}
    if about:
        message["about"] = [{"reference": about}]
    if secret:      # acl.py reads it: the legal representatives do not see this notice (R1111-50)
        message["meta"] = {"security": [{"system": VISIBILITY_SYSTEM, "code": INVISIBLE_REPRESENTANTS_LEGAUX}]}
    if mode:
        message["reasonCode"] = [{"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/"
                                              "TRE-R248-ModeAcces", "code": mode}]}]
    store_version(ctx, "create", "Communication", new_id(), message, None, None, decided=True)


def notify_new_document(ctx: Context, document: dict, acl: dict, previous: dict | None) -> None:
    """Mon espace santé tells the holder a document was added (issue 12, item 5): when a professional adds
    one, or when one hidden from them (INVISIBLE_PATIENT) becomes visible; once per document; never for the
    holder's own deposits; a minor's secret (INVISIBLE_REPRESENTANTS_LEGAUX) gives a notice the legal
    representatives cannot read (decisions.NEW_DOCUMENT_NOTICES)."""
    if _hidden_now(acl, ctx.now):
        return
    revealed = previous is not None and _hidden_now(previous, ctx.now)
    added = previous is None and ctx.actor.resource_type == "Practitioner"
    if not (added or revealed):
        return
    for patient_id in acl.get("patients") or []:
        if f"Patient/{patient_id}" in acl.get("authors", []):
            continue                      # their own deposit
        if _claim(ctx.store, f"newdoc/{document['id']}/{patient_id}", ctx.now):
            _send_document_notice(ctx, patient_id, document, acl)


def _hidden_now(acl: dict, now: datetime) -> bool:
    return bool(acl.get("hidden_until") and acl["hidden_until"] > now)


def _send_document_notice(ctx: Context, patient_id: str, document: dict, acl: dict) -> None:
    title = document.get("description") or ((document.get("type") or {}).get("coding") or [{}])[0].get("display")
    secret = INVISIBLE_REPRESENTANTS_LEGAUX in acl.get("labels", [])
    text = "Un nouveau document a été ajouté à votre dossier médical partagé" + (f" : {title}." if title else ".")
    _send(ctx, patient_id, [f"Patient/{patient_id}"], text, None,
          about=f"DocumentReference/{document['id']}", secret=secret)


def notify_lapsed_documents(store: MongoStore, settings, now: datetime) -> int:
    """INVISIBLE_PATIENT documents whose month is over became visible without a write: tell their holders."""
    lapsed = {"deleted": False, "_acl.hidden_since": {"$lte": now}, "_acl.hidden_until": {"$lte": now}}
    ctx = Context(store=store, settings=settings, actor=SERVER_ACTOR, base_url=settings.public_base(), now=now)
    sent = 0
    for doc in store.find("DocumentReference", lapsed):
        for patient_id in doc["_acl"]["patients"]:
            if f"Patient/{patient_id}" not in doc["_acl"].get("authors", []) \
                    and _claim(store, f"newdoc/{doc['_id']}/{patient_id}", now):
                _send_document_notice(ctx, patient_id, doc["res"], doc["_acl"])
                sent += 1
    return sent
