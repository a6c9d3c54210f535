"""Valid resources of our types, small and French, for the validation tests."""

from __future__ import annotations

INS_NIR = "urn:oid:1.2.250.1.213.1.4.8"
RPPS = "urn:oid:1.2.250.1.71.4.2.1"


def patient(**extra) -> dict:
    return {"resourceType": "Patient", "id": "p1",
            "identifier": [{"use": "official", "system": INS_NIR, "value": "279035121518989"}],
            "name": [{"use": "official", "family": "Martin", "given": ["Claire", "Anne"]}],
            "gender": "female", "birthDate": "1979-03-12", **extra}


def document_reference(**extra) -> dict:
    return {"resourceType": "DocumentReference", "status": "current", "docStatus": "final",
            "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4"}]},
            "subject": {"reference": "Patient/p1"}, "date": "2024-11-20T10:00:00+01:00",
            "content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/b1"}}], **extra}


def observation(**extra) -> dict:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2024-11-20T08:30:00Z",
            "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
            **extra}


def consent(**extra) -> dict:
    return {"resourceType": "Consent", "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                  "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": {"reference": "Patient/p1"},
            "provision": {"type": "permit",
                          "provision": [{"type": "deny", "actor": [{
                              "role": {"text": "bloqué"}, "reference": {"reference": "Practitioner/pr1"}}]}]},
            **extra}


def valid_resources() -> list[dict]:
    """One valid instance of most of our types."""
    return [
        patient(contact=[{"gender": "male", "name": {"family": "Martin"}}],
                _birthDate={"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                           "valueDateTime": "1979-03-12T04:20:00+01:00"}]}),
        document_reference(),
        observation(),
        consent(),
        {"resourceType": "Practitioner", "identifier": [{"system": RPPS, "value": "810002909371"}],
         "name": [{"family": "Durand", "given": ["Paul"], "prefix": ["Dr"]}], "gender": "male"},
        {"resourceType": "PractitionerRole", "practitioner": {"reference": "Practitioner/pr1"},
         "availableTime": [{"daysOfWeek": ["mon", "tue"], "availableStartTime": "08:00:00"}]},
        {"resourceType": "Organization", "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.2",
                                                        "value": "1750712184"}], "name": "CHU de Paris"},
        {"resourceType": "RelatedPerson", "patient": {"reference": "Patient/p1"}, "gender": "female",
         "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                       "code": "MTH"}]}]},
        {"resourceType": "CareTeam", "status": "active", "subject": {"reference": "Patient/p1"},
         "participant": [{"member": {"reference": "Practitioner/pr1"}}]},
        {"resourceType": "Binary", "contentType": "text/plain", "data": "Qm9uam91cg=="},
        {"resourceType": "List", "status": "current", "mode": "working",
         "entry": [{"item": {"reference": "DocumentReference/d1"}}]},
        {"resourceType": "Communication", "status": "completed", "priority": "routine",
         "payload": [{"contentString": "Votre compte rendu est disponible"}]},
        {"resourceType": "Appointment", "status": "booked", "start": "2024-12-01T09:00:00+01:00",
         "end": "2024-12-01T09:30:00+01:00",
         "participant": [{"actor": {"reference": "Patient/p1"}, "required": "required", "status": "accepted"}]},
        {"resourceType": "QuestionnaireResponse", "status": "completed",
         "item": [{"linkId": "1", "item": [{"linkId": "1.1", "answer": [{"valueBoolean": True, "item": [
             {"linkId": "1.1.1", "answer": [{"valueInteger": 3}]}]}]}]}]},
        {"resourceType": "Provenance", "target": [{"reference": "DocumentReference/d1"}],
         "recorded": "2024-11-20T10:00:00.000+01:00", "agent": [{"who": {"reference": "Practitioner/pr1"}}],
         "entity": [{"role": "source", "what": {"reference": "DocumentReference/d0"}}]},
        {"resourceType": "AuditEvent", "type": {"system": "http://dicom.nema.org/resources/ontology/DCM",
                                                "code": "110110"},
         "action": "R", "recorded": "2024-11-20T10:00:00Z", "outcome": "0",
         "agent": [{"requestor": True, "who": {"reference": "Practitioner/pr1"},
                    "network": {"address": "10.0.0.1", "type": "2"}}],
         "source": {"observer": {"reference": "Device/dmp"}}},
    ]
