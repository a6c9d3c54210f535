"""search at type and system level, and in the Patient compartment: https://hl7.org/fhir/R4/search.html"""

from __future__ import annotations

from ..search.engine import run_search
from .context import Context, Interaction, Outcome
from .guard import note, search_filter


def search(ctx: Context, it: Interaction) -> Outcome:
    """The access policy's filter is ANDed into every query the search makes (page, total, includes)."""
    scope = search_filter(ctx, it.resource_type, it.params, it.compartment)
    bundle = run_search(ctx.store, it.resource_type, it.params, base_url=ctx.base_url, lenient=it.lenient,
                        extra_filter=scope, observe=lambda t, doc: note(ctx, t, doc),
                        budget_ms=ctx.settings.search_time_budget_ms)
    if it.compartment:
        _links_in_compartment(bundle, ctx.base_url, it.resource_type, it.compartment)
    return Outcome(200, bundle)


def _links_in_compartment(bundle: dict, base_url: str, resource_type: str, patient_id: str) -> None:
    """Self and paging links must stay inside the compartment the search was made in."""
    plain, inside = f"{base_url}/{resource_type}", f"{base_url}/Patient/{patient_id}/{resource_type}"
    for link in bundle.get("link", []):
        if link["url"] == plain or link["url"].startswith(plain + "?"):
            link["url"] = inside + link["url"][len(plain):]
