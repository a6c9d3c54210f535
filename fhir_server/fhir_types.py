"""The resource types this server serves (CONTRACT.md, 'Resources')."""

SUPPORTED_TYPES: tuple[str, ...] = (
    "Patient", "Practitioner", "PractitionerRole", "Organization", "RelatedPerson", "CareTeam",
    "DocumentReference", "Binary", "List", "Consent", "Communication", "AuditEvent", "Provenance",
    "Appointment", "QuestionnaireResponse", "Observation",
)

# written by the server only: read and search through the API, never create/update/delete/patch
SERVER_WRITTEN_TYPES: frozenset[str] = frozenset({"AuditEvent"})
