"""Parameter types, one module each (extraction and matching side by side), registered by type name."""

from __future__ import annotations

from fhir_server.search.types import composite, date, number, quantity, reference, string, token, uri

TYPES = {
    "string": string,
    "token": token,
    "date": date,
    "reference": reference,
    "number": number,
    "quantity": quantity,
    "uri": uri,
    "composite": composite,
}
