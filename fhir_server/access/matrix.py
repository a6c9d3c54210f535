"""The access matrix by profession ("matrice d'habilitations"): which document classes and types a
profession may read and feed. Data, not code: `definitions/access-matrix.json` (versioned), which the
operator replaces with DMP_FHIR_ACCESS_MATRIX_FILE.

A document's codes (`_acl.codes`, every `system|code` of its category and type, computed at write time)
are matched against the profession's rights inside the query, so searches, totals, pages, includes,
$everything and history stay honest. The matrix narrows what a care-team member, an authorised or an
emergency professional sees (decisions.py: ACCESS_MATRIX_*); the médecin traitant and the author of a
document are not narrowed by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources as package_files
from pathlib import Path

import orjson

ALL = "*"


@dataclass(frozen=True)
class Rights:
    """What one professional may read and feed: None means every document."""
    profiles: tuple[str, ...]
    read: frozenset[str] | None
    write: frozenset[str] | None

    def reads(self, codes: list[str]) -> bool:
        return self.read is None or bool(self.read & set(codes))

    def feeds(self, codes: list[str]) -> bool:
        return self.write is None or bool(self.write & set(codes))


@dataclass(frozen=True)
class Matrix:
    version: str
    profiles: dict[str, dict]           # name -> {"read": "*"|[system|code], "write": …}
    professions: dict[str, str]         # system|code -> profile name
    other: str
    unqualified: str

    def rights(self, professions: set[str]) -> Rights:
        """The union of the rights of the professional's professions (decisions.py, "access matrix")."""
        known = sorted(professions & set(self.professions))
        names = sorted({self.professions[p] for p in known}) or [self.other if professions else self.unqualified]
        return Rights(tuple(names), _union(self, names, "read"), _union(self, names, "write"))


def _union(matrix: Matrix, names: list[str], side: str) -> frozenset[str] | None:
    granted: set[str] = set()
    for name in names:
        value = matrix.profiles[name][side]
        if value == ALL:
            return None
        granted.update(value)
    return frozenset(granted)


def document_codes(resource: dict) -> list[str]:
    """Every `system|code` of the document's class (category) and type, for the matrix to match."""
    concepts = list(resource.get("category") or []) + [resource.get("type") or {}]
    return sorted({f"{c.get('system')}|{c.get('code')}" for concept in concepts if isinstance(concept, dict)
                   for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("system") and c.get("code")})


def read_filter(rights: Rights, author: str) -> dict:
    """The Mongo clause of the matrix: resources that are not documents, documents of a readable class or
    type, and the professional's own documents. {} when the profession reads everything."""
    if rights.read is None:
        return {}
    return {"$or": [{"_acl.codes": {"$exists": False}}, {"_acl.codes": {"$in": sorted(rights.read)}},
                    {"_acl.authors": author}]}


@cache
def load_matrix(path: Path | str | None = None) -> Matrix:
    """The default matrix, or the operator's file; a malformed file stops the server at start-up."""
    try:
        raw = Path(path).read_bytes() if path else \
            package_files.files("fhir_server.definitions").joinpath("access-matrix.json").read_bytes()
        return _parse(orjson.loads(raw))
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise MatrixError(f"access matrix {path or 'default'} is malformed: {error}") from error


class MatrixError(ValueError):
    """A configuration error, raised when the app is built (create_app), never during a request."""


def _parse(data: dict) -> Matrix:
    systems: dict[str, str] = data.get("systems") or {}

    def expand(code: str) -> str:
        alias, sep, value = code.partition(":")
        if code.startswith(("http:", "https:", "urn:")) or not sep or alias not in systems:
            if "|" not in code:
                raise ValueError(f"'{code}' is neither alias:code nor system|code")
            return code
        return f"{systems[alias]}|{value}"

    def side(value) -> object:
        if value == ALL:
            return ALL
        if not isinstance(value, list):
            raise ValueError(f"read/write must be '*' or a list, not {value!r}")
        return [expand(c) for c in value]

    profiles = {name: {"read": side(p["read"]), "write": side(p["write"])} for name, p in data["profiles"].items()}
    professions = {expand(code): name for code, name in data["professions"].items()}
    for name in [*professions.values(), data["otherProfessions"], data["unqualified"]]:
        if name not in profiles:
            raise ValueError(f"unknown profile '{name}'")
    return Matrix(str(data["version"]), profiles, professions, data["otherProfessions"], data["unqualified"])
