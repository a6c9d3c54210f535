"""search at type and system level: https://hl7.org/fhir/R4/search.html"""

from __future__ import annotations

from ..search.engine import run_search
from .context import Context, Interaction, Outcome


def search(ctx: Context, it: Interaction) -> Outcome:
    bundle = run_search(ctx.store, it.resource_type, it.params, base_url=ctx.base_url, lenient=it.lenient)
    return Outcome(200, bundle)
