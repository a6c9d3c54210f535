"""search at type and system level: https://hl7.org/fhir/R4/search.html"""

from __future__ import annotations

from ..search.engine import run_search
from .context import Context, Interaction, Outcome
from .guard import note, search_filter


def search(ctx: Context, it: Interaction) -> Outcome:
    """The access policy's filter is ANDed into every query the search makes (page, total, includes)."""
    bundle = run_search(ctx.store, it.resource_type, it.params, base_url=ctx.base_url, lenient=it.lenient,
                        extra_filter=search_filter(ctx, it.resource_type, it.params), observe=lambda t, doc: note(ctx, t, doc))
    return Outcome(200, bundle)
