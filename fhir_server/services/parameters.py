"""Reading the FHIR `Parameters` of a custom operation (in the body, or in the query for GET)."""

from __future__ import annotations

from ..errors import BadRequest
from .context import Interaction


def parameters(it: Interaction) -> dict[str, object]:
    """name -> value (value[x], or a Reference's `reference`); query parameters count too."""
    values: dict[str, object] = {k: v for k, v in it.params}
    body = it.body
    if body is None:
        return values
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise BadRequest("an operation takes a Parameters resource", expression="resourceType")
    for i, p in enumerate(body.get("parameter") or []):
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            raise BadRequest("each parameter needs a name", expression=f"Parameters.parameter[{i}]")
        value = next((v for k, v in p.items() if k.startswith("value")), None)
        if isinstance(value, dict) and "reference" in value:
            value = value["reference"]
        values[p["name"]] = value
    return values


def required(values: dict, name: str) -> object:
    if values.get(name) in (None, ""):
        raise BadRequest(f"parameter '{name}' is required", expression=f"Parameters.parameter.where(name='{name}')")
    return values[name]


def as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise BadRequest(f"expected a boolean, not '{value}'")
