"""Small resources the audit tests write (the shared factories have no Observation)."""

from __future__ import annotations


def weight(patient_id: str, kg: float = 80) -> dict:
    """A body-weight Observation for one patient."""
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
            "subject": {"reference": f"Patient/{patient_id}"},
            "valueQuantity": {"value": kg, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}
