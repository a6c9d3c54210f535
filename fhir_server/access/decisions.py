"""Every choice the law leaves open (the (?) marks of DMP_RULES.md) and every legal constant, in one place.

Change a choice here and the whole policy follows; each constant says which rule it implements.
"""

from __future__ import annotations

from datetime import timedelta

VISIBILITY_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
ACCESS_MODE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/TRE-R248-ModeAcces"
MASQUE_PS = "MASQUE_PS"
INVISIBLE_PATIENT = "INVISIBLE_PATIENT"
INVISIBLE_REPRESENTANTS_LEGAUX = "INVISIBLE_REPRESENTANTS_LEGAUX"
VISIBILITY_CODES = (MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX)
EMERGENCY_MODES = ("bris_de_glace", "centre_15")

DMP_STATUS_URL = "https://dmp-fhir-server.example/fhir/StructureDefinition/dmp-status"
HIDDEN_UNTIL_URL = "https://dmp-fhir-server.example/fhir/StructureDefinition/hidden-from-patient-until"
IS_ARCHIVED_URL = "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-ext-is-archived"

# R1111-53: invisible to the patient for at most one month; the patient is told after two weeks.
HIDDEN_FROM_PATIENT_MAX = timedelta(days=31)
HIDDEN_NOTICE_AFTER = timedelta(days=14)
# The age of majority (L1111-14) is a setting: DMP_FHIR_AGE_OF_MAJORITY, 18 by default (config.py).
# Rule 8: platform parameter `cumul-invisible_patient-masque_ps`.
ALLOW_INVISIBLE_PATIENT_WITH_MASQUE_PS = False
# Record lifecycle (R1111-28, R1111-36): opening delay, retention after closure, after a deletion request.
OPENING_DELAY = timedelta(weeks=6)
RETENTION_AFTER_CLOSURE = timedelta(days=3653)
RETENTION_AFTER_DELETION_REQUEST = timedelta(days=92)

# v3-RoleCode relationships that make a RelatedPerson a legal representative (parents, guardians).
LEGAL_REPRESENTATIVE_CODES = frozenset({
    "MTH", "FTH", "PRN", "NMTH", "NFTH", "NPRN", "ADOPTMTH", "ADOPTFTH", "ADOPTP", "STPMTH", "STPFTH", "STPPRN",
    "GUARD", "POWATT", "SPOWATT"})

# (?) Rule 9: emergency access does not show documents masked by the holder (DMP_RULES default).
EMERGENCY_SEES_MASKED = False
# (?) Rule 3: a block wins over everything, emergency modes included ("no access at all").
BLOCK_APPLIES_IN_EMERGENCY = True
# (?) Rule 12: the holder may correct or delete what they deposited themselves (author = the Patient).
HOLDER_MAY_ALTER_OWN_DEPOSITS = True
# (?) Rule 4 keeps a masked document visible to its author: we read that as "a professional always sees
#     the documents they authored themselves" (unless blocked or the record is closed),
#     even without an authorisation on the rest of the record; it gives no right to add documents.
AUTHOR_SEES_OWN_DOCUMENTS = True
# (?) Rule 5: professionals with the médecin traitant's rights are exactly those in Patient.generalPractitioner.
# (?) A document's "author's establishment" is any Organization listed in DocumentReference.author.
# (?) INVISIBLE_PATIENT set at creation: the month runs from the document's `date` when that is in the past
#     (the producer hid it when writing it), else from the time the server stored the label.
# (?) Rule 6 also hides the document from the legal representatives (they act as the holder).

# Update-as-create (PUT of a new id) would tell a hidden resource (404) from a free id (201): only trusted
# systems (seeding, migrations) choose ids; everyone else creates with POST and gets 404 for an unknown id.
UPDATE_AS_CREATE_FOR_TRUSTED_SYSTEMS_ONLY = True

# 404 vs 403 (issue 4, item 6): a document the professional may not see is 404 (its existence is itself
# sensitive); a record closed to them, a block, or a missing authorisation is 403 (the patient's record
# exists for them to ask about; the reason helps them act: ask for consent, use the right mode).
DMP_ACTIVE, DMP_CLOSED = "ACTIF", "FERME"

# (?) Emergency access (rule 9) is for reading the record: no writes in bris_de_glace or centre_15 mode.
EMERGENCY_MAY_WRITE = False
# Rule 13: the DocumentReference elements a metadata update may change (PDSm); anything else is 405.
DOCUMENT_MUTABLE_ELEMENTS = frozenset({"status", "securityLabel", "meta", "text"})

# -- issue 10: a hidden thing is indistinguishable from an absent one (THREATS.md) -------------------------
# 403 vs 404 on refused records. A resource of a record the actor may not reach (no authorisation, blocked,
# closed, not yet open, objected emergency mode) answers 404 exactly like an absent id, on every path: a
# 403 for existing ids and a 404 for absent ones let anyone with a token test which ids exist in a record
# (and so that a record holds, e.g., a document from a sexual-health centre). Only the record itself,
# `Patient/{id}` (and searches or operations naming it), answers 403 with the reason: that a record exists
# is what $access-status tells a professional anyway, and the reason tells them what to do (ask consent,
# use the right mode). The refusal is traced in the record as a refusal (AuthZconsent) for the holder and
# the médecin traitant; the actor's own view of it is the trace an absent id leaves (services/tracing.py).
REFUSED_RECORD_ANSWERS_NOT_FOUND = True
# (?) Rule 7: the minor's secret covers the fact of the care, not only the documents: the legal
# representatives do not see what names the authors of those documents (Consents, care teams, messages,
# appointments, traces of their actions on the record).
SECRET_COVERS_THE_CARERS = True
# (?) Rule 6: a document revealed to the holder (by $reveal-to-patient, a PATCH, or because its month ran out)
# cannot be hidden from them again: the announcement took place, and a new month each time would let a
# document be hidden for ever.
REHIDING_ALLOWED = False
# (?) Who sees a block (rule 3): the holder, the legal representatives, the médecin traitant (who reads the
# record's traces, refusals included, anyway) and trusted systems. Other professionals, authorised or in an
# emergency, do not read the holder's blocks of their colleagues: a block is the holder's private choice; the
# blocked professional learns only that they are blocked (403 on the record).
BLOCKS_SEEN_BY = ("holder", "legal_representative", "medecin_traitant", "system")
# (?) Who may grant (issue 10, class 4): only the holder side grants access to a record (Consent through
# $authorize, which a professional may record on the patient's consent); care teams, PractitionerRoles,
# Patient and RelatedPerson resources are written by trusted systems (and Patient by the holder side).
