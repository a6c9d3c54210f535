"""dmp-fhir-server: a FHIR R4 server for the French DMP that enforces the CSP privacy rules itself."""
