"""Token parameters (https://hl7.org/fhir/R4/search.html#token).

Index value `_idx.<code>`: `t`, one array served by one index, holding for each coding / identifier / code
    "system|code" and "code", or "|code" and "code" when there is no system;
    " " + folded text (display, CodeableConcept.text, Identifier.type.text) for `:text`;
    "  " + "type-system|type-code|value" for an identifier's type, for `:of-type`.
Codes never start with a space, so the three families cannot meet. `s` is the first code, the sort key.
"""

from __future__ import annotations

import re
from typing import Any

from fhir_server.search.expressions import Node
from fhir_server.search.types.base import (CompileContext, ExtractContext, any_of, bad_value, prefix_regex,
                                           unsupported_modifier)
from fhir_server.search.types.string import fold

MODIFIERS = frozenset({"text", "not", "of-type", "missing"})
PRESENCE = "t"
SORT_TYPE = str

TEXT, OF_TYPE = " ", "  "


def _code_entries(system: Any, code: Any) -> list[str]:
    if isinstance(code, bool):
        code = "true" if code else "false"
    elif isinstance(code, (int, float)):
        code = str(code)
    if not isinstance(code, str) or not code:
        return []
    if isinstance(system, str) and system:
        return [f"{system}|{code}", code]
    return [f"|{code}", code]


def _texts(*values: Any) -> list[str]:
    return [TEXT + fold(v) for v in values if isinstance(v, str) and fold(v)]


def _coding(c: dict) -> list[str]:
    return _code_entries(c.get("system"), c.get("code")) + _texts(c.get("display"))


def _entries(value: Any, fhir_type: str | None, implicit_system: str | None) -> list[str]:
    if isinstance(value, (str, bool, int, float)):
        return _code_entries(implicit_system, value)
    if not isinstance(value, dict):
        return []
    if "coding" in value or fhir_type == "CodeableConcept" or ("text" in value and "value" not in value):
        out = [e for c in value.get("coding") or [] if isinstance(c, dict) for e in _coding(c)]
        return out + _texts(value.get("text"))
    if "value" in value and "code" not in value:       # Identifier, or ContactPoint (system = its use)
        if fhir_type == "ContactPoint" or value.get("system") in ("phone", "fax", "email", "pager", "url",
                                                                    "sms", "other"):
            return _code_entries(value.get("use"), value.get("value"))
        out = _code_entries(value.get("system"), value.get("value"))
        id_type = value.get("type") or {}
        for c in id_type.get("coding") or []:
            if isinstance(c, dict) and c.get("code") and isinstance(value.get("value"), str):
                out.append(f"{OF_TYPE}{c.get('system', '')}|{c['code']}|{value['value']}")
        return out + _texts(id_type.get("text"))
    return _coding(value)                               # Coding, or Quantity-like {system, code}


def extract(nodes: list[Node], ctx: ExtractContext) -> dict | None:
    entries = {e for n in nodes for e in _entries(n.value, n.fhir_type, ctx.implicit_system)}
    if not entries:
        return None
    codes = sorted(e for e in entries if not e.startswith(" ") and "|" not in e) or [""]
    return {"t": sorted(entries), "s": codes[0]}


def split_token(value: str) -> tuple[str | None, str]:
    """'system|code' → (system, code); '|code' → ('', code); 'code' → (None, code). `\\|` is a literal bar."""
    parts = re.split(r"(?<!\\)\|", value)
    parts = [p.replace("\\|", "|") for p in parts]
    if len(parts) == 1:
        return None, parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise bad_value("token", value, "more than one '|'")


def _one(field: str, modifier: str | None, value: str, ctx: CompileContext) -> dict:
    key = f"{field}.t"
    if modifier == "text":
        return {key: prefix_regex(TEXT + fold(value))}
    if modifier == "of-type":
        parts = re.split(r"(?<!\\)\|", value)
        if len(parts) != 3 or not all(parts):
            raise bad_value(ctx.code, value, "':of-type' needs type-system|type-code|value")
        return {key: OF_TYPE + "|".join(p.replace("\\|", "|") for p in parts)}
    system, code = split_token(value)
    if system is None:
        return {key: code}
    if code == "":
        if not system:
            raise bad_value(ctx.code, value, "neither system nor code")
        return {key: prefix_regex(system + "|")}
    return {key: f"{system}|{code}"}


def compile(field: str, modifier: str | None, values: list[str], ctx: CompileContext) -> dict:
    if modifier not in (None, "text", "not", "of-type"):
        raise unsupported_modifier(ctx.code, modifier)
    if modifier == "not":       # resources that have none of the codes, including those with no code at all
        wanted = [_one(field, None, v, ctx)[f"{field}.t"] for v in values]
        if all(isinstance(w, str) for w in wanted):
            return {f"{field}.t": {"$nin": wanted}}
        return {"$nor": [{f"{field}.t": w} for w in wanted]}
    return any_of([_one(field, modifier, v, ctx) for v in values])


def index_keys(field: str) -> list[list[tuple[str, int]]]:
    return [[(f"{field}.t", 1)]]
