"""The same FHIR workload against this server and any other FHIR R4 server; one table of both, with the ratio.

    python benchmarks/side_by_side.py --other http://127.0.0.1:8080/fhir          # e.g. HAPI FHIR JPA
    python benchmarks/side_by_side.py --url http://127.0.0.1:8000/fhir --token T --other URL --other-token T2

Each server gets the same work, in this order (benchmarks/README.md, "Side by side"):
  load one by one    half the Patients, then their DocumentReferences, one POST each (resources/s)
  load by bundles    the other half as transaction Bundles of --bundle entries, a Patient with its documents
                     (urn:uuid references) together (resources/s)
  read               GET Patient/{id} of a random loaded Patient
  search             GET DocumentReference?patient=Patient/{id}
  search _include    the same with _include=DocumentReference:subject
  search _revinclude GET Patient?_id={id}&_revinclude=DocumentReference:subject
  create             POST DocumentReference for a random loaded Patient
  update             PUT Patient/{id}, each client its own Patient, a name changing each time
Only standard R4 resources and search parameters are used. A server needs nothing but its base URL and,
optionally, a bearer token. Without --url this server is started here in development mode (as rest.py does),
and its token is a trusted system's (`POST /dev/token`), so that no consent rule applies; a server given by URL
is used as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rest  # noqa: E402  (the load engine, the raw client and the server runner)

LOINC = "http://loinc.org"
CLASS_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
WORKLOAD = ("read", "search", "search _include", "search _revinclude", "create", "update")


AUTHOR = {"resourceType": "Practitioner", "name": [{"family": "Lefebvre", "given": ["Antoine"]}],
          "identifier": [{"use": "official", "system": "https://rpps.esante.gouv.fr", "value": "10009999901",
                          "type": {"coding": [{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                                               "code": "RPPS"}]}}]}


def document(patient_ref: str, n: int, author_ref: str) -> dict:
    return {
        "resourceType": "DocumentReference",
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
        "status": "current",
        "type": {"coding": [{"system": LOINC, "code": "11488-4", "display": "Consult note"}]},
        "category": [{"coding": [{"system": CLASS_SYSTEM, "code": "10", "display": "Compte rendu"}]}],
        "subject": {"reference": patient_ref},
        "author": [{"reference": author_ref}],
        "date": f"2026-{1 + n % 11:02d}-{1 + n % 28:02d}T10:00:00+01:00",
        "description": f"compte rendu {n}",
        "content": [{"attachment": {"contentType": "text/plain", "language": "fr-FR",
                                    "data": "Y29tcHRlIHJlbmR1", "title": f"compte rendu {n}"}}],
    }


class Server:
    """A FHIR base with its client; what was loaded into it."""

    def __init__(self, label: str, base: str, token: str | None, args: argparse.Namespace):
        self.label, self.base, self.token, self.args = label, base.rstrip("/"), token, args
        self.patients: list[str] = []
        self.author = ""            # the Practitioner every document names (created first: referential integrity)
        self.results: dict[str, dict] = {}

    def client(self, concurrency: int | None = None):
        options = argparse.Namespace(**{**vars(self.args), "concurrency": concurrency or self.args.concurrency})
        return rest.new_client(options, self.token)


async def post(client, worker: int, url: str, body: dict) -> dict:
    status, payload = await client.request(worker, "POST", url, rest.dumps(body))
    if not 200 <= status < 300:
        raise rest.SetupError(f"POST {url} -> HTTP {status}: {payload[:600].decode(errors='replace')}")
    return json.loads(payload) if payload else {}


async def load_one_by_one(server: Server, patients: rest.Patients, count: int) -> dict:
    """`count` Patients and their documents, one POST each, `concurrency` at a time."""
    client, per_patient = server.client(), server.args.documents
    queue = list(range(count))
    started, made = time.perf_counter(), [0]

    async def worker(w: int):
        while queue:
            queue.pop()
            created = await post(client, w, f"{server.base}/Patient", patients.new())
            pid = created.get("id")
            if not pid:
                raise rest.SetupError(f"POST {server.base}/Patient answered without an id")
            server.patients.append(pid)
            for j in range(per_patient):
                await post(client, w, f"{server.base}/DocumentReference", document(f"Patient/{pid}", j, server.author))
            made[0] += 1 + per_patient
    return await loaded(server, client, worker, started, made)


async def loaded(server: Server, client, worker, started: float, made: list[int]) -> dict:
    """Run `worker` on every connection, then the rate of resources stored since `started`."""
    try:
        await asyncio.gather(*(worker(w) for w in range(server.args.concurrency)))
    finally:
        await client.aclose()
    seconds = time.perf_counter() - started
    return {"requests": made[0], "seconds": seconds, "req_per_s": made[0] / seconds}


def bundle_of(patients: rest.Patients, size: int, per_patient: int, author: str) -> tuple[dict, int]:
    entries = []
    while len(entries) + 1 + per_patient <= max(size, 1 + per_patient):
        full_url = f"urn:uuid:{uuid.uuid4()}"
        entries.append({"fullUrl": full_url, "resource": patients.new(), "request": {"method": "POST", "url": "Patient"}})
        entries += [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": document(full_url, j, author),
                     "request": {"method": "POST", "url": "DocumentReference"}} for j in range(per_patient)]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}, len(entries)


async def load_by_bundles(server: Server, patients: rest.Patients, count: int) -> dict:
    client, per_patient = server.client(), server.args.documents
    left, started, made = [count], time.perf_counter(), [0]

    async def worker(w: int):
        while left[0] > 0:
            bundle, size = bundle_of(patients, server.args.bundle, per_patient, server.author)
            left[0] -= size // (1 + per_patient)
            answer = await post(client, w, server.base, bundle)
            for entry in answer.get("entry") or []:
                location = (entry.get("response") or {}).get("location") or ""
                if location.startswith("Patient/") or "/Patient/" in location:
                    server.patients.append(location.split("Patient/", 1)[1].split("/")[0])
            made[0] += size
    return await loaded(server, client, worker, started, made)


def requests_of(name: str, server: Server, own: list[str], patients: rest.Patients, bodies: dict):
    """scenario -> make_request(worker) for rest.Load."""
    base, ids, counter = server.base, server.patients, iter(range(10**9))
    pick = random.Random(7).choice
    if name == "read":
        return lambda w: ("GET", f"{base}/Patient/{pick(ids)}", None)
    if name == "search":
        return lambda w: ("GET", f"{base}/DocumentReference?patient=Patient/{pick(ids)}", None)
    if name == "search _include":
        return lambda w: ("GET", f"{base}/DocumentReference?patient=Patient/{pick(ids)}"
                                 "&_include=DocumentReference:subject", None)
    if name == "search _revinclude":
        return lambda w: ("GET", f"{base}/Patient?_id={pick(ids)}&_revinclude=DocumentReference:subject", None)
    if name == "create":
        return lambda w: ("POST", f"{base}/DocumentReference", rest.dumps(document(f"Patient/{pick(ids)}", next(counter),
                                                                                    server.author)))

    def update(w: int):
        body = {**bodies[w], "id": own[w], "name": [{"family": "Martin", "given": [f"Claire{next(counter)}"]}]}
        return "PUT", f"{base}/Patient/{own[w]}", rest.dumps(body)
    return update


async def measure(server: Server, patients: rest.Patients) -> None:
    args = server.args
    half = args.patients // 2
    setup = server.client(1)
    try:
        server.author = f"Practitioner/{(await post(setup, 0, f'{server.base}/Practitioner', AUTHOR))['id']}"
    except (rest.SetupError, rest.ClientError, KeyError) as e:
        for name in ("load one by one", "load by bundles", *WORKLOAD):
            server.results[name] = {"failed": f"the author could not be created: {e}"}
        return
    finally:
        await setup.aclose()
    for name, load in (("load one by one", load_one_by_one), ("load by bundles", load_by_bundles)):
        try:
            server.results[name] = await load(server, patients, half if name == "load one by one" else args.patients - half)
        except (rest.SetupError, rest.ClientError) as e:
            server.results[name] = {"failed": str(e)}
    if not server.patients:
        for name in WORKLOAD:
            server.results[name] = {"failed": "nothing was loaded"}
        return
    setup = server.client(1)
    own, bodies = [], {}
    try:
        for w in range(args.concurrency):        # update: one Patient per client, so no version races
            body = patients.new()
            own.append((await post(setup, 0, f"{server.base}/Patient", body))["id"])
            bodies[w] = body
    finally:
        await setup.aclose()
    for name in WORKLOAD:
        client = server.client()
        try:
            result = await rest.Load(client, args).run(rest.Result(name), requests_of(name, server, own, patients, bodies))
            server.results[name] = result.as_dict()
        finally:
            await client.aclose()


def print_table(servers: list[Server]) -> None:
    a, b = servers[0], servers[1] if len(servers) > 1 else None
    print(f"A = {a.label} ({a.base})" + (f"\nB = {b.label} ({b.base})" if b else ""))
    print(f"{len(a.patients)} patients loaded in A" + (f", {len(b.patients)} in B" if b else "")
          + f"; {a.args.documents} documents each; concurrency {a.args.concurrency}; {a.args.duration:g} s per scenario")
    head = f"{'scenario':20} {'A req/s':>9} {'A p50':>7} {'A p99':>7} {'A err':>6}"
    if b:
        head += f" {'B req/s':>9} {'B p50':>7} {'B p99':>7} {'B err':>6} {'A/B':>6}"
    print(head)
    print("-" * len(head))
    for name in ("load one by one", "load by bundles", *WORKLOAD):
        line = f"{name:20} " + _cells(a.results.get(name, {}))
        if b:
            ra, rb = a.results.get(name, {}), b.results.get(name, {})
            ratio = (ra["req_per_s"] / rb["req_per_s"]) if ra.get("req_per_s") and rb.get("req_per_s") else None
            line += " " + _cells(rb) + f" {ratio:6.2f}" if ratio else " " + _cells(rb) + f" {'-':>6}"
        print(line)
    for server in servers:
        for name, result in server.results.items():
            if result.get("failed") or result.get("error_samples"):
                print(f"{server.label} {name}: {result.get('failed') or result['error_samples'][0]}")


def _cells(result: dict) -> str:
    if result.get("failed"):
        return f"{'failed':>9} {'':>7} {'':>7} {'':>6}"
    rate, p50, p99 = result.get("req_per_s"), result.get("p50_ms"), result.get("p99_ms")
    return (f"{rate:9.1f} " + (f"{p50:7.1f} {p99:7.1f}" if p50 is not None else f"{'':>7} {'':>7}")
            + f" {result.get('errors', 0):6d}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="FHIR base of A (default: start this server here, development mode)")
    p.add_argument("--token", help="bearer token for A (default: a trusted system's, from A's /dev/token)")
    p.add_argument("--label", default="dmp-fhir-server")
    p.add_argument("--other", help="FHIR base of B, e.g. a HAPI FHIR JPA server")
    p.add_argument("--other-token", help="bearer token for B (default: none)")
    p.add_argument("--other-label", default="other server")
    p.add_argument("--patients", type=int, default=200, help="Patients loaded into each server (200)")
    p.add_argument("--documents", type=int, default=5, help="DocumentReferences per Patient (5)")
    p.add_argument("--bundle", type=int, default=48, help="entries per transaction Bundle (48: 8 Patients × 6)")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--duration", type=float, default=8.0, help="seconds per read/search/create/update scenario")
    p.add_argument("--client", choices=("raw", "httpx"), default="raw", help="as in rest.py (raw: http only)")
    args = p.parse_args(argv)
    args.requests = None
    if args.patients < 2 or args.documents < 0 or args.bundle < 1 or args.concurrency < 1 or args.duration <= 0:
        p.error("--patients ≥ 2, --documents ≥ 0, --bundle, --concurrency and --duration > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dmp-fhir-side-") as workdir:
        started = None
        try:
            if args.url:
                base, token = args.url, args.token
            else:
                started = rest.fhir_server(workdir).start()
                base = started.base
                token = args.token or rest.get_token(base)
            servers = [Server(args.label, base, token, args)]
            if args.other:
                servers.append(Server(args.other_label, args.other, args.other_token, args))
            for server in servers:            # one after the other: each has the machine to itself
                asyncio.run(measure(server, rest.Patients()))
        except rest.SetupError as e:
            print(f"side_by_side: {e}", file=sys.stderr)
            return 1
        finally:
            if started is not None:
                started.stop()
    print_table(servers)
    return 1 if any(r.get("failed") or r.get("errors") for s in servers for r in s.results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
