"""Communications written by the server (DMP_RULES rules 6 and 9):
- after an emergency access, to the holder and the médecins traitants (mode, actor, time, reason);
- when a document has stayed hidden from the holder for 14 days: "your record was updated, see a professional".
Each notice is claimed once in the `notices` collection, so repeating the trigger never repeats the message."""

from __future__ import annotations

from datetime import datetime

from ..access.decisions import HIDDEN_NOTICE_AFTER
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


def _send(ctx: Context, patient_id: str, recipients: list[str], text: str, mode: str | None) -> None:
    message = {"resourceType": "Communication", "status": "completed", "category": [CATEGORY],
               "subject": {"reference": f"Patient/{patient_id}"}, "sent": instant(ctx.now), "sender": SERVER,
               "recipient": [{"reference": r} for r in recipients], "payload": [{"contentString": text}]}
    if mode:
        message["reasonCode"] = [{"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/"
                                              "TRE-R248-ModeAcces", "code": mode}]}]
    store_version(ctx, "create", "Communication", new_id(), message, None, None, decided=True)
