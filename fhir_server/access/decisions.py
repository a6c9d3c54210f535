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

# -- The access matrix by profession (issue 12; data in definitions/access-matrix.json, code in matrix.py) --------
# (?) The CNAM's own "matrice d'habilitations" is not published as data we could copy: the default file is the
#     project's reading of R1111-46 and the 2021 decree. Médical professions (médecin 10, chirurgien-dentiste 40,
#     sage-femme 50) read and feed every class; pharmacien, infirmier, masseur-kinésithérapeute, and the social and
#     médico-social staff (an Ehpad care assistant: TRE_G15 99 "acteur caractérisé par son rôle", or 41) see less.
#     The operator replaces the file (DMP_FHIR_ACCESS_MATRIX_FILE); a malformed file stops the server at start-up.
# The matrix narrows (policy.Policy.narrowed) care-team members, authorised professionals and emergency modes. It does not narrow:
#   - the médecin traitant (rule 5: "sees all documents"; an MT is a physician);
#   - a professional's own documents (rule 4 keeps them visible to their author; AUTHOR_SEES_OWN_DOCUMENTS);
#   - the holder, the legal representatives and trusted systems (not professionals).
# (?) Emergency modes follow the same matrix: break-glass opens the record, not more than the profession may read.
ACCESS_MATRIX_IN_EMERGENCY = True
# (?) A professional's professions are every coding of Practitioner.qualification and of their active
#     PractitionerRoles (code, specialty); with several, their rights add up (union): the directory is written by
#     trusted systems only, so a professional cannot give themselves a profession (matrix.Matrix.rights).
# (?) A Practitioner whose directory entry names no profession keeps today's rights (profile "unqualified" = all):
#     records migrated before the matrix existed keep working; an operator who wants it strict sets "unqualified"
#     to a narrow profile in their file. A profession the file does not list gets "otherProfessions".
# The matrix applies to DocumentReference (and to Binary through its document); the other resources of the
#     record (measures, agenda, messages) follow the record-level rules only. A document is readable when any
#     of its class (TRE_A03) or type codes is readable: a type entry (e.g. LOINC 11502-2, lab report) opens that
#     type whatever its class.
# Writes: a profession feeds (creates) only documents of a class or type it may write, else 403; metadata
#     updates of an existing document (status, labels) are not "feeding" and follow rules 12 and 13.

# -- $access-status (issue 12, DMP TD0.2) ------------------------------------------------------------------------
# (?) What a professional learns: whether a record exists for the INS and its status (open / not yet open, with
#     the opening date, which is a legal date and no medical fact / closed); their own authorisation: valid
#     (on which basis, until when), expired (since when), blocked (rule 3: the DMP answers "INTERDIT"), or none;
#     whether they are médecin traitant; the emergency modes open to them. A blocked caller learns nothing else
#     (no emergency modes: BLOCK_APPLIES_IN_EMERGENCY); an unauthorised one learns the emergency modes, which is
#     what they need to act for a patient in danger (R1111-48) and reveals no medical fact. The Patient id and the
#     "médecin traitant" answer go only to a caller with a valid authorisation; document counts and other actors
#     never. The closure date goes to the médecin traitant (who was told of the closure) and to trusted systems.
ACCESS_STATUS_CLOSURE_DATE_TO_MT = True

# -- Notices of new documents (issue 12, item 5; services/notifications.py) ------------------------------------------
# (?) The holder is told (a Communication from the server, `about` the document) when a professional adds a
#     document, or when a document hidden from them becomes visible (revealed, or its month over: `dmp-fhir notify`
#     and serve's quarter-hour job); once per document. Not for their own deposits (author = the Patient), and not
#     for trusted-system feeds (seeding, migrations, the insurer's reimbursement feed: bulk loads would flood the
#     holder, and Mon espace santé announces reimbursements in its own space). A notice about a minor's secret
#     carries INVISIBLE_REPRESENTANTS_LEGAUX in meta.security, which acl.py turns into the same label filter that
#     hides the document itself from the legal representatives (read, search, $everything).

# -- A professional masks at the holder's request (issue 12, item 6; labels.py, operations.mask) ---------------------
# (?) Rule 4 names the holder. The DMP also lets a professional set "masqué aux professionnels" when the holder asks
#     during the consultation, at feeding time or later. We allow it to a professional with normal access to the
#     record (médecin traitant, care team, authorised; not emergency, not author-only), only with `requestedBy` =
#     the holder (a legal representative masks through their own access, no proxy needed). The request is recorded
#     on the label itself (extension MASKED_AT_REQUEST_URL: requestedBy, recordedBy, date), so the holder sees who
#     masked it for them, and the operation is traced like any other. Lifting a mask widens who sees the document:
#     only the holder side does it ($unmask), as rule 4 says.
PROFESSIONAL_MASKS_ON_REQUEST = True
MASKED_AT_REQUEST_URL = "https://dmp-fhir-server.example/fhir/StructureDefinition/masked-at-holder-request"

# -- $access-list and $who-can-see (issue 12, items 3 and 4; access/audience.py, services/access_operations.py) ----
# (?) "Who can reach the record" is asked of the one policy for every actor the record's own resources name (the
#     holder, the legal representatives, the médecins traitants, care-team members, actors of its Consents, authors
#     of its documents). An establishment reaches a record through its professionals: it is listed as each of its
#     professionals (PractitionerRole) acting for it (`onBehalfOf`), the way their tokens would present them.
# (?) Emergency access is open to any professional, so it is described as a rule (which modes, masked documents
#     shown or not), not as a list of actors; the emergency accesses that took place come from the traces.
# (?) $access-list: the holder and the legal representatives (L1111-19), and trusted systems; a representative is
#     not told of a professional known only as the author of the minor's confidential documents (R1111-50), and
#     no basis naming such a document is shown to them. Only professionals who can reach the record now, or are
#     blocked, are listed (an expired authorisation or a finished care team is history, in the traces).
# (?) $who-can-see: the holder and trusted systems only (CONTRACT.md); a legal representative asks the holder's
#     questions through $access-list. A document hidden from the holder (INVISIBLE_PATIENT) is 404 to them here too.
#     Each yes/no is guard.check_readable run as that actor; `hiddenBy` names the label (or the access matrix) that
#     explains a no.
