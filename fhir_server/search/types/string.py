"""String parameters (https://hl7.org/fhir/R4/search.html#string).

Index value `_idx.<code>`:
    v: folded values (lower case, accents stripped) for starts-with, plus " " + every suffix of every
       word for `:contains` (the leading space keeps them apart: a folded value never starts with one);
    x: the values as written, for `:exact`;
    s: the smallest folded value, the sort key.
Every query is an anchored prefix or an equality on `v`, which one index serves; `:exact` and
`:contains` add a check on `x` / the full value that runs on the documents the index found.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from fhir_server.search.expressions import Node
from fhir_server.search.types.base import (CompileContext, ExtractContext, all_of, any_of, prefix_regex,
                                           regex_escape, unsupported_modifier)

MODIFIERS = frozenset({"exact", "contains", "missing"})
PRESENCE = "v"
SORT_TYPE = str

_NAME_PARTS = ("text", "family", "given", "prefix", "suffix")
_ADDRESS_PARTS = ("text", "line", "city", "district", "state", "postalCode", "country")
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case, accent-free, whitespace-collapsed: 'Hélène  Dupont' → 'helene dupont'."""
    if text.isascii():
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        parts = _NAME_PARTS if ("family" in value or "given" in value) else (
            _ADDRESS_PARTS if any(k in value for k in ("line", "city", "postalCode", "country")) else None)
        out: list[str] = []
        for key in parts or ("text", "display", "value", "name", "title"):
            item = value.get(key)
            out.extend(s for s in (item if isinstance(item, list) else [item]) if isinstance(s, str))
        return out
    return []


def word_suffixes(folded: str) -> set[str]:
    return {word[i:] for word in _WORD.findall(folded) for i in range(len(word))}


def extract(nodes: list[Node], ctx: ExtractContext) -> dict | None:
    raw = sorted({s for n in nodes for s in _strings(n.value) if s.strip()})
    if not raw:
        return None
    folded = sorted({fold(s) for s in raw} - {""})
    suffixes = set().union(*(word_suffixes(f) for f in folded)) if folded else set()
    return {"v": folded + sorted(" " + s for s in suffixes), "x": raw, "s": folded[0] if folded else ""}


def _one(field: str, modifier: str | None, value: str) -> dict:
    folded = fold(value)
    if modifier == "exact":
        return {f"{field}.v": folded, f"{field}.x": value}
    if modifier == "contains":
        words = _WORD.findall(folded)
        if not words:
            return {f"{field}.v": {"$regex": regex_escape(folded)}}
        return all_of([{f"{field}.v": prefix_regex(" " + w)} for w in words]
                      + ([{f"{field}.v": {"$regex": "^[^ ].*" + regex_escape(folded)}}] if len(words) > 1 else []))
    return {f"{field}.v": prefix_regex(folded)}


def compile(field: str, modifier: str | None, values: list[str], ctx: CompileContext) -> dict:
    if modifier not in (None, "exact", "contains"):
        raise unsupported_modifier(ctx.code, modifier)
    return any_of([_one(field, modifier, v) for v in values])


def index_keys(field: str) -> list[list[tuple[str, int]]]:
    return [[(f"{field}.v", 1)]]
