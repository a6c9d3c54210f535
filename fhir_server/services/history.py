"""history at instance, type and system level: https://hl7.org/fhir/R4/http.html#history"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

import orjson

from ..errors import BadRequest, Forbidden
from ..fhir_types import SERVER_WRITTEN_TYPES, SUPPORTED_TYPES
from ..search.bundle import with_entries
from ..search.paging import seal, unseal
from ..search.parameters import DEFAULT_COUNT, page_size
from ..storage.base import as_utc
from .context import Context, Interaction, Outcome
from .read import checked_doc
from ..access.scope import search_scope
from ..instants import parse_instant, query_offset
from .writing import instant

ALLOWED = {"_count", "_since", "_page", "_format"}


def history(ctx: Context, it: Interaction) -> Outcome:
    params = dict(it.params)
    unknown = set(params) - ALLOWED
    if unknown:
        raise BadRequest(f"unsupported history parameter(s): {', '.join(sorted(unknown))}")
    count = _count(params.get("_count"))
    base_filter = _scope_filter(ctx, it)
    if "_since" in params:
        base_filter["lu"] = {"$gte": parse_instant(query_offset(params["_since"]), "_since")}
    context = f"{it.kind}|{it.resource_type}|{it.id}|{ctx.actor.reference}"
    page_filter = _after(params.get("_page"), context)
    docs = ctx.store.history({**base_filter, **page_filter} if page_filter else base_filter, limit=count + 1)
    if it.kind == "history-instance" and it.resource_type in SERVER_WRITTEN_TYPES and not docs and not page_filter:
        # server-written resources keep their one version in place (no history entry)
        docs = [{**d, "type": it.resource_type, "id": d["_id"]} for d in ctx.store.find(it.resource_type, {"_id": it.id})]
    bundle = with_entries({"resourceType": "Bundle", "type": "history",
                           "link": [{"relation": "self", "url": _link(ctx, it, params)}]},
                          [_entry(ctx, d) for d in docs[:count]])
    if it.kind == "history-instance":
        bundle["total"] = max(ctx.store.count_history(base_filter), len(docs))
    if len(docs) > count:
        next_params = {**params, "_page": _page_token(docs[count - 1], context)}
        bundle["link"].append({"relation": "next", "url": _link(ctx, it, next_params)})
    return Outcome(200, bundle)


def _scope_filter(ctx: Context, it: Interaction) -> dict:
    if it.kind == "history-instance":
        checked_doc(ctx, it.resource_type, it.id)
        rows = {"type": it.resource_type, "id": it.id}
        # each version on its own record and labels: the filter of a search of this type, on the row's _acl
        scope = None if it.resource_type in SERVER_WRITTEN_TYPES else search_scope(ctx.policy, it.resource_type)
        return {"$and": [rows, scope]} if scope else rows
    if not ctx.actor.is_trusted_system:
        # history rows carry no access marks: across resources only trusted systems read them
        raise Forbidden("type and system history are for trusted systems; read a resource's own _history")
    if it.kind == "history-type":
        return {"type": it.resource_type}
    return {"type": {"$in": list(SUPPORTED_TYPES)}}


def _count(value: str | None) -> int:
    """The same page sizes as search."""
    if value is None:
        return DEFAULT_COUNT
    return max(1, page_size(value))


def _entry(ctx: Context, doc: dict) -> dict:
    type_, id_, v = doc["type"], doc["id"], doc["v"]
    method = "DELETE" if doc.get("deleted") else ("POST" if v == 1 else "PUT")
    entry: dict = {"fullUrl": f"{ctx.base_url}/{type_}/{id_}"}
    if not doc.get("deleted"):
        entry["resource"] = doc["res"]
    entry["request"] = {"method": method, "url": f"{type_}/{id_}" if method != "POST" else type_}
    status = {"POST": "201 Created", "PUT": "200 OK", "DELETE": "204 No Content"}[method]
    entry["response"] = {"status": status, "etag": f'W/"{v}"', "lastModified": instant(as_utc(doc["lu"]))}
    return entry


def _page_token(doc: dict, context: str) -> str:
    """Sealed like search tokens (search/paging.py): the anchor names a version the reader need not know."""
    return seal(orjson.dumps([as_utc(doc["lu"]).isoformat(), doc["_id"]]), context)


def _after(token: str | None, context: str) -> dict:
    """Keyset paging on (lu, _id) descending: new writes land before the first page, never inside."""
    if not token:
        return {}
    payload = unseal(token, context)
    try:
        lu_text, key = orjson.loads(payload)
        lu = datetime.fromisoformat(lu_text)
        if not isinstance(key, str):
            raise TypeError(key)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise BadRequest("invalid _page token", expression="_page") from None
    return {"$or": [{"lu": {"$lt": lu}}, {"lu": lu, "_id": {"$lt": key}}]}


def _link(ctx: Context, it: Interaction, params: dict) -> str:
    path = "/".join(p for p in (it.resource_type, it.id) if p)
    path = f"{path}/_history" if path else "_history"
    query = urlencode(params)
    return f"{ctx.base_url}/{path}" + (f"?{query}" if query else "")
