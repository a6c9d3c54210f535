"""Index values extracted once per write: the `_idx` subdocument stored beside the resource.

`_idx` has one key per search parameter of the resource's type that has a value (parameters with no value
are absent, which is what `:missing=true` finds). `_id` is the document key and is not repeated.
`_lastUpdated`, `_tag`, `_profile`, `_security` and `_source` come from `meta` like any other parameter.
"""

from __future__ import annotations

from dataclasses import replace

from fhir_server.search.registry import registry


def extract_index(resource: dict, *, base_url: str | None = None) -> dict:
    """The `_idx` subdocument for `resource` (a dict as stored, with id and meta set)."""
    idx: dict = {}
    for indexer in registry().indexers(resource.get("resourceType", "")):
        if base_url is not None:
            indexer = replace(indexer, context=replace(indexer.context, base_url=base_url))
        value = indexer.extract(resource)
        if value is not None:
            idx[indexer.param.code] = value
    return idx
