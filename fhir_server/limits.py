"""What the server accepts from a client, in size and shape, so that every request's work is bounded.

The numbers are settings (config.py, DMP_FHIR_*, listed in the README); the checks are here, pure, so that
the HTTP layer, Bundle entries and the services apply the same ones. Every refusal is a 4xx FhirError.
"""

from __future__ import annotations

import re

from .errors import BadRequest

# ASCII digits only: str.isdigit() and `\d` accept '²' or '١', which int() then refuses or reads as 1
_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
_CONTAINERS = (dict, list)      # what JSON parsing makes: exact types, so `type(x) in` is enough


def whole_number(text: object) -> int | None:
    """`text` as a non-negative integer written in ASCII digits, else None."""
    if isinstance(text, str) and _WHOLE_NUMBER.fullmatch(text):
        return int(text)
    return None


_ALTERNATIVE = re.compile(r"(?<!\\),")     # the unescaped commas of a value: `a,b` is a OR b


def check_query_size(params: list[tuple[str, str]], per_name: int, total: int, alternatives: int) -> None:
    """A query has at most `total` parameters, repeats one at most `per_name` times, and gives at most
    `alternatives` comma-separated values in one parameter."""
    if len(params) > total:
        raise BadRequest(f"too many query parameters ({len(params)}; at most {total})", code="too-costly")
    seen: dict[str, int] = {}
    for name, value in params:
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > per_name:
            raise BadRequest(f"query parameter '{name[:64]}' repeated more than {per_name} times",
                             code="too-costly", expression=name[:64])
        if len(_ALTERNATIVE.findall(value)) >= alternatives:
            raise BadRequest(f"query parameter '{name[:64]}' has more than {alternatives} comma-separated values",
                             code="too-costly", expression=name[:64])


def check_json_shape(value: object, max_depth: int, max_items: int) -> None:
    """At most `max_depth` nested arrays/objects and `max_items` items in any array (400 otherwise).

    One level at a time, so that a deep document cannot exhaust the stack of the check itself."""
    level, depth = ([value] if type(value) in _CONTAINERS else []), 0
    while level:
        depth += 1
        if depth > max_depth:
            raise BadRequest(f"the JSON body is nested more than {max_depth} levels deep", code="too-costly")
        below = []
        for node in level:
            if type(node) is list and len(node) > max_items:
                raise BadRequest(f"a JSON array of the body has {len(node)} items (at most {max_items})",
                                 code="too-costly")
            below += [child for child in (node.values() if type(node) is dict else node)
                      if type(child) in _CONTAINERS]
        level = below
