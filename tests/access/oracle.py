"""The indistinguishability oracle of issue 10 (fhir_server/access/THREATS.md):

    For an actor who may not see resource R, every answer about R (status, body, diagnostics, headers, the
    traces that actor can read, the lists, provenances and notices that name R) is the answer for an id that
    does not exist, and no count includes R.

`compare(api, probe, hidden, absent)` sends the same probe for R and for a fresh absent id of the same type,
normalises what legitimately differs (the id itself, generated ids, instants, the request id, the length),
and returns both answers with the traces the actor could read afterwards; `assert_indistinguishable` fails
with both side by side. PROBES is every path of the issue, written once for any resource type.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
import re
import uuid
from dataclasses import dataclass, field
from typing import Callable

from tests.conftest import Api

IGNORED_HEADERS = {"date", "x-request-id", "content-length"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")
TRACES_QUERY = "AuditEvent?_count=500"
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


@dataclass(frozen=True)
class Target:
    """R: a resource of `patient`'s record, and the body a writer would send for it (read by a trusted system)."""
    resource_type: str
    id: str
    patient: str
    body: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.id}"

    def absent(self) -> "Target":
        """A fresh id of the same type that never existed, with the same body (its id changed)."""
        id = f"absent-{uuid.uuid4().hex[:12]}"
        return Target(self.resource_type, id, self.patient, {**self.body, "id": id})

    @property
    def binary_id(self) -> str:
        return "bin-" + self.id.removeprefix("doc-")


@dataclass(frozen=True)
class Probe:
    name: str
    send: Callable[[Api, Target], object]
    types: tuple[str, ...] = ()          # empty: every type


def _without_id(body: dict) -> dict:
    out = copy.deepcopy(body)
    out.pop("id", None)
    out.pop("meta", None)
    return out


def _params(**values) -> dict:
    return {"resourceType": "Parameters", "parameter": [{"name": k, "valueString": v} for k, v in values.items()]}


DOC = ("DocumentReference",)
PROBES = [
    Probe("read", lambda a, t: a.get(t.reference)),
    Probe("vread", lambda a, t: a.get(f"{t.reference}/_history/1")),
    Probe("history", lambda a, t: a.get(f"{t.reference}/_history")),
    Probe("search _id", lambda a, t: a.get(f"{t.resource_type}?_id={t.id}")),
    Probe("count _id", lambda a, t: a.get(f"{t.resource_type}?_id={t.id}&_summary=count")),
    Probe("search _id in record", lambda a, t: a.get(f"{t.resource_type}?_id={t.id}&patient=Patient/{t.patient}")),
    Probe("_has", lambda a, t: a.get(f"Patient?_has:{t.resource_type}:patient:_id={t.id}")),
    Probe("_revinclude", lambda a, t: a.get(f"{t.resource_type}?_id={t.id}&_revinclude=Provenance:target")),
    Probe("List?item", lambda a, t: a.get(f"List?item={t.reference}")),
    Probe("Provenance?target", lambda a, t: a.get(f"Provenance?target={t.reference}")),
    Probe("AuditEvent?entity", lambda a, t: a.get(f"AuditEvent?entity={t.reference}&_summary=count")),
    Probe("conditional read (POST _search)", lambda a, t: a.client.post(
        f"/fhir/{t.resource_type}/_search", data={"_id": t.id},
        headers={"Authorization": f"Bearer {a.token}", "Content-Type": "application/x-www-form-urlencoded"})),
    Probe("conditional update", lambda a, t: a.put(f"{t.resource_type}?identifier=urn:x|no-such-{t.patient}",
                                                   t.body)),
    Probe("conditional delete", lambda a, t: a.delete(f"{t.resource_type}?_id={t.id}")),
    Probe("conditional create", lambda a, t: a.post(t.resource_type, _without_id(t.body),
                                                    headers={"If-None-Exist": f"_id={t.id}"})),
    Probe("$validate delete", lambda a, t: a.post(f"{t.reference}/$validate?mode=delete", _params())),
    Probe("$validate update", lambda a, t: a.post(f"{t.reference}/$validate", t.body)),
    Probe("PUT", lambda a, t: a.put(t.reference, t.body)),
    Probe("PUT If-Match", lambda a, t: a.put(t.reference, t.body, headers={"If-Match": 'W/"1"'})),
    Probe("PATCH", lambda a, t: a.patch(t.reference, [{"op": "add", "path": "/language", "value": "fr-FR"}],
                                        headers=JSON_PATCH)),
    Probe("DELETE", lambda a, t: a.delete(t.reference)),
    Probe("Binary read", lambda a, t: a.get(f"Binary/{t.binary_id}"), DOC),
    Probe("Binary PUT", lambda a, t: a.put(f"Binary/{t.binary_id}", {
        "resourceType": "Binary", "id": t.binary_id, "contentType": "text/plain", "data": "eA==",
        "securityContext": {"reference": t.reference}}), DOC),
    Probe("Binary DELETE", lambda a, t: a.delete(f"Binary/{t.binary_id}"), DOC),
    Probe("Binary create for R", lambda a, t: a.post("Binary", {
        "resourceType": "Binary", "contentType": "text/plain", "data": "eA==",
        "securityContext": {"reference": t.reference}}), DOC),
    Probe("Provenance create for R", lambda a, t: a.post("Provenance", {
        "resourceType": "Provenance", "target": [{"reference": t.reference}], "recorded": "2026-11-22T10:00:00Z",
        "agent": [{"who": {"reference": "Practitioner/pra-yann-le-gall"}}]})),
    *[Probe(f"${op}", (lambda op: lambda a, t: a.post(f"{t.reference}/${op}", _params()))(op), DOC)
      for op in ("mask", "unmask", "reveal-to-patient", "hide-from-patient", "hide-from-representatives")],
]


def normalise(text: str, *ids: str) -> str:
    for id in sorted(ids, key=len, reverse=True):
        text = text.replace(id, "<ID>")
    text = UUID.sub("<UUID>", text)
    return INSTANT.sub("<INSTANT>", text)


def answer(api: Api, response, *ids: str) -> dict:
    headers = {k.lower(): normalise(v, *ids) for k, v in response.headers.items()
               if k.lower() not in IGNORED_HEADERS}
    return {"status": response.status_code, "headers": headers, "body": normalise(response.text, *ids)}


def own_traces(api: Api, since: str | None = None) -> dict[str, dict]:
    """Every trace this actor may read (id -> AuditEvent), recorded since `since` when given, all pages."""
    out: dict[str, dict] = {}
    r = api.get(TRACES_QUERY + (f"&date=ge{since}" if since else ""))
    if r.status_code == 403:
        return {}       # an actor who may not read this record's traces reads none
    assert r.status_code == 200, r.text     # anything else would let the comparison pass on empty answers
    bundle = r.json()
    while True:
        for entry in bundle.get("entry", []):
            out[entry["resource"]["id"]] = entry["resource"]
        following = [link["url"] for link in bundle.get("link", []) if link["relation"] == "next"]
        if not following:
            return out
        bundle = api.client.get(following[0].replace("http://testserver", ""),
                                headers={"Authorization": f"Bearer {api.token}"}).json()


def _trace_view(event: dict, *ids: str) -> str:
    """A trace as its reader sees it, but for what legitimately differs (ids, instants, request id)."""
    import orjson
    event = {k: v for k, v in event.items() if k not in ("id", "meta", "recorded")}
    event["entity"] = [e for e in event.get("entity", []) if (e.get("type") or {}).get("code") != "XrequestId"]
    for e in event["entity"]:
        if "query" in e:
            import base64
            e["query"] = base64.b64decode(e["query"]).decode()
    return normalise(orjson.dumps(event, option=orjson.OPT_SORT_KEYS).decode(), *ids)


def _oracle_read(event: dict) -> bool:
    """The oracle's own reads of the traces are traced too: they are not part of the answer."""
    import base64
    return any(base64.b64decode(e["query"]).decode().startswith(TRACES_QUERY) for e in event.get("entity", []) if "query" in e)


def observe(api: Api, probe: Probe, target: Target) -> dict:
    """The answer to the probe and the traces it added to what the actor may read."""
    since = (datetime.now(timezone.utc) - timedelta(milliseconds=1)).isoformat(timespec="milliseconds")
    ids = (target.id, target.binary_id)
    result = answer(api, probe.send(api, target), *ids)
    after = own_traces(api, since.replace("+00:00", "Z"))
    result["new traces"] = sorted(_trace_view(e, *ids) for e in after.values() if not _oracle_read(e))
    return result


def assert_indistinguishable(api: Api, probe: Probe, hidden: Target) -> None:
    absent = hidden.absent()
    seen_absent = observe(api, probe, absent)
    seen_hidden = observe(api, probe, hidden)
    assert seen_hidden == seen_absent, f"{probe.name} tells {hidden.reference} from an absent id:\n" \
                                       f"hidden: {seen_hidden}\nabsent: {seen_absent}"


def _by(event: dict, actor: str) -> bool:
    return any(a.get("requestor") and (a.get("who") or {}).get("reference") == actor for a in event.get("agent", []))


def readable_text(api: Api, patient: str, actor: str) -> str:
    """Everything the actor can read about a record through the paths that name other resources:
    lists, provenances, notices, traces, and $everything."""
    paths = [f"List?patient=Patient/{patient}", f"List?_count=500", "Provenance?_count=500",
             f"Communication?subject=Patient/{patient}", f"Consent?patient=Patient/{patient}",
             f"CareTeam?patient=Patient/{patient}", f"Patient/{patient}/$everything"]
    texts = [api.get(p).text for p in paths]
    others = [e for e in own_traces(api).values() if not _by(e, actor)]   # one's own requests name what one typed
    texts.extend(str(e) for e in others)
    import base64
    for event in others:
        texts.extend(base64.b64decode(e["query"]).decode() for e in event.get("entity", []) if "query" in e)
    return "\n".join(texts)


def probes_for(resource_type: str) -> list[Probe]:
    return [p for p in PROBES if not p.types or resource_type in p.types]
