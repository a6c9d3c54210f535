"""Drive a running dmp-fhir server over HTTP with concurrent clients; print req/s and p50/p99 latency.

Scenarios (see benchmarks/README.md):
  read         GET  Patient/{id}
  create       POST Patient
  update       PUT  Patient/{id}, a field changing on each request (one Patient per client: no 409 races)
  transaction  POST a transaction Bundle of 10 Patient POST entries to the base
  baseline     GET  on benchmarks/baseline_app.py (bare FastAPI `async def` + orjson): the framework's ceiling
  baseline-h11 the same bare app served with uvicorn's pure-Python h11 parser

Without --url the server is started here (`python -m fhir_server.cli serve --port P --no-seed`, development
mode) and stopped at the end. Traffic goes to 127.0.0.1 only.

    python benchmarks/rest.py --duration 10
    python benchmarks/rest.py --url http://127.0.0.1:8080/fhir --scenarios read,update --concurrency 32 --json
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
SCENARIOS = ("read", "create", "update", "transaction", "baseline", "baseline-h11")
BASELINES = {"baseline": "auto", "baseline-h11": "h11"}     # scenario -> uvicorn --http
FHIR_JSON = "application/fhir+json"
INS_NIR_TEST = "urn:oid:1.2.250.1.213.1.4.10"
START_TIMEOUT = 60.0  # seconds to wait for a subprocess server to answer
REQUEST_TIMEOUT = 30.0  # seconds per request: a stuck server cannot stall a scenario for long
MAX_ERROR_SAMPLES = 5


# ---------------------------------------------------------------------------------------------- bodies

class Patients:
    """French test Patients, each with its own valid INS-NIR-TEST (13 digits + key 97 - n mod 97)."""

    def __init__(self) -> None:
        self._prefix = f"2{random.randint(50, 99):02d}{random.randint(1, 12):02d}{random.randint(10, 95):02d}"
        self._serial = itertools.count(random.randrange(1_000_000))

    def nir(self) -> str:
        body = f"{self._prefix}{next(self._serial) % 1_000_000:06d}"
        return f"{body}{97 - int(body) % 97:02d}"

    def new(self, given: str = "Claire") -> dict:
        return {
            "resourceType": "Patient",
            "identifier": [{
                "use": "official",
                "system": INS_NIR_TEST,
                "value": self.nir(),
                "type": {"coding": [{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                                     "code": "INS-NIR-TEST"}]},
            }],
            "name": [{"use": "official", "family": "Martin", "given": [given]}],
            "gender": "female",
            "birthDate": "1979-03-12",
        }

    def transaction(self, size: int = 10) -> dict:
        return {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": self.new(),
                       "request": {"method": "POST", "url": "Patient"}} for _ in range(size)],
        }


def dumps(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


# ---------------------------------------------------------------------------------------------- results

@dataclass
class Result:
    scenario: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)
    failed: str | None = None  # set when the scenario could not run at all (setup error)

    def record(self, status: int | None, millis: float, detail: str = "") -> None:
        self.requests += 1
        self.latencies_ms.append(millis)
        if status is None or not 200 <= status < 300:
            self.errors += 1
            sample = f"HTTP {status}: {detail}" if status is not None else detail
            if len(self.error_samples) < MAX_ERROR_SAMPLES and sample not in self.error_samples:
                self.error_samples.append(sample)

    def percentile(self, p: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        rank = max(1, math.ceil(p / 100 * len(ordered)))  # nearest rank
        return ordered[min(rank, len(ordered)) - 1]

    def as_dict(self) -> dict:
        rate = self.requests / self.seconds if self.seconds else None
        out = {"scenario": self.scenario, "requests": self.requests, "errors": self.errors,
               "seconds": round(self.seconds, 3), "req_per_s": _round(rate),
               "p50_ms": _round(self.percentile(50)), "p99_ms": _round(self.percentile(99))}
        if self.error_samples:
            out["error_samples"] = self.error_samples
        if self.failed:
            out["failed"] = self.failed
        return out


def _round(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    header = ("scenario", "requests", "errors", "req/s", "p50 ms", "p99 ms")
    rows = []
    for r in results:
        d = r.as_dict()
        rows.append((r.scenario, str(d["requests"]), str(d["errors"]), _fmt(d["req_per_s"], 1),
                     _fmt(d["p50_ms"], 2), _fmt(d["p99_ms"], 2)))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    bound = f"{args.requests} requests" if args.requests else f"{args.duration:g} s"
    print(f"concurrency {args.concurrency}, {bound} per scenario, {args.client} client, server {args.server_label}")
    print(line(header))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))
    shown: dict[str, str] = {}
    for r in results:
        if r.failed and r.failed in shown:
            print(f"\n{r.scenario}: not run: same reason as {shown[r.failed]}")
        elif r.failed:
            shown[r.failed] = r.scenario
            print(f"\n{r.scenario}: not run: {r.failed}")
        if r.error_samples:
            print(f"\n{r.scenario}: {r.errors} errors, first distinct ones:")
            for sample in r.error_samples:
                print(f"  {sample}")


def _fmt(x: float | None, digits: int) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


# ---------------------------------------------------------------------------------------------- clients

class ClientError(Exception):
    """The request got no HTTP answer (connection refused or reset, timeout, malformed response)."""


class RawClient:
    """A lean HTTP/1.1 keep-alive client on asyncio streams: one connection per worker.

    httpx.AsyncClient costs more CPU per request than the server under test does here (on a 2-core machine
    it tops out near 250-400 req/s against the bare baseline app, which answers ~1,900 req/s to this
    client), so it would measure itself. This one parses only what a benchmark needs: status, Content-Length
    or chunked body, Connection: close. `--client httpx` switches back to httpx for comparison.
    """

    def __init__(self, concurrency: int, headers: dict[str, str]) -> None:
        self._headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = [None] * concurrency

    async def request(self, worker: int, method: str, url: str, body: bytes | None) -> tuple[int, bytes]:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = (f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n{self._headers}"
                f"Content-Length: {len(body) if body else 0}\r\n\r\n").encode()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                reader, writer = await self._connection(worker, parts.hostname, parts.port or 80)
                writer.write(head + body if body else head)
                status, headers = await self._read_head(reader)
                payload = await self._read_body(reader, headers)
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                TimeoutError) as e:
            self._drop(worker)
            raise ClientError(f"{type(e).__name__}: {e}") from None
        if headers.get("connection", "").lower() == "close":
            self._drop(worker)
        return status, payload

    async def _connection(self, worker: int, host: str, port: int):
        if self._conns[worker] is None:
            self._conns[worker] = await asyncio.open_connection(host, port)
        return self._conns[worker]

    @staticmethod
    async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        return status, headers

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    return b"".join(chunks)
                chunks.append(chunk[:-2])
        if "content-length" in headers:
            return await reader.readexactly(int(headers["content-length"]))
        return b""

    def _drop(self, worker: int) -> None:
        conn, self._conns[worker] = self._conns[worker], None
        if conn is not None:
            conn[1].close()

    async def aclose(self) -> None:
        for worker in range(len(self._conns)):
            self._drop(worker)


class HttpxClient:
    """httpx.AsyncClient with a pool of `concurrency` connections (`--client httpx`)."""

    def __init__(self, concurrency: int, headers: dict[str, str]) -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.AsyncClient(headers=headers, limits=limits, timeout=REQUEST_TIMEOUT, trust_env=False)

    async def request(self, worker: int, method: str, url: str, body: bytes | None) -> tuple[int, bytes]:
        try:
            response = await self._client.request(method, url, content=body)
        except httpx.HTTPError as e:
            raise ClientError(f"{type(e).__name__}: {e}") from None
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self._client.aclose()


def new_client(args: argparse.Namespace, token: str | None):
    headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return (HttpxClient if args.client == "httpx" else RawClient)(args.concurrency, headers)


# ---------------------------------------------------------------------------------------------- load

class Load:
    """Run one scenario: `concurrency` workers, each its own bounded loop; bounded by time or by count."""

    def __init__(self, client, args: argparse.Namespace) -> None:
        self.client = client
        self.concurrency = args.concurrency
        self.duration = args.duration
        self.total = args.requests

    async def run(self, result: Result, make_request) -> Result:
        """make_request(worker) -> (method, url, body | None)."""
        remaining = [self.total] if self.total else None
        await asyncio.gather(*(self._warm(make_request, w) for w in range(self.concurrency)))
        start = time.perf_counter()
        deadline = start + self.duration
        await asyncio.gather(*(self._worker(result, make_request, w, deadline, remaining)
                               for w in range(self.concurrency)))
        result.seconds = time.perf_counter() - start
        return result

    async def _warm(self, make_request, worker: int) -> None:
        """One unmeasured request per connection so that connection set-up is not in the figures."""
        method, url, body = make_request(worker)
        try:
            await self.client.request(worker, method, url, body)
        except ClientError:
            pass

    async def _worker(self, result: Result, make_request, worker: int, deadline: float, remaining) -> None:
        while True:
            if remaining is not None:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            elif time.perf_counter() >= deadline:
                return
            method, url, body = make_request(worker)
            t0 = time.perf_counter()
            try:
                status, payload = await self.client.request(worker, method, url, body)
            except ClientError as e:
                result.record(None, (time.perf_counter() - t0) * 1000, f"{method} {url}: {e}")
                continue
            millis = (time.perf_counter() - t0) * 1000
            ok = 200 <= status < 300
            result.record(status, millis, "" if ok else f"{method} {url} -> {payload[:800].decode(errors='replace')}")


class SetupError(Exception):
    """A scenario could not be prepared (e.g. the server refused the Patient it needs)."""


async def create_patient(client, base: str, patients: Patients) -> str:
    try:
        status, payload = await client.request(0, "POST", f"{base}/Patient", dumps(patients.new()))
    except ClientError as e:
        raise SetupError(f"POST {base}/Patient: {e}") from None
    text = payload.decode(errors="replace")
    if not 200 <= status < 300:
        raise SetupError(f"POST {base}/Patient -> HTTP {status}: {text[:800]}")
    try:
        doc = json.loads(payload) if payload else {}
    except ValueError:
        doc = {}
    pid = doc.get("id") if isinstance(doc, dict) else None
    if not pid:
        raise SetupError(f"POST {base}/Patient -> HTTP {status} without an id in the body: {text[:300]}")
    return pid


async def scenario(name: str, client, base: str, args: argparse.Namespace) -> Result:
    result = Result(name)
    patients = Patients()
    load = Load(client, args)
    try:
        if name == "read":
            pid = await create_patient(client, base, patients)
            return await load.run(result, lambda w: ("GET", f"{base}/Patient/{pid}", None))
        if name == "create":
            return await load.run(result, lambda w: ("POST", f"{base}/Patient", dumps(patients.new())))
        if name == "update":
            ids = [await create_patient(client, base, patients) for _ in range(args.concurrency)]
            bodies = [patients.new() for _ in ids]
            counter = itertools.count()

            def put(w: int):
                body = dict(bodies[w], id=ids[w])
                body["name"] = [{"use": "official", "family": "Martin", "given": [f"Claire{next(counter)}"]}]
                return "PUT", f"{base}/Patient/{ids[w]}", dumps(body)
            return await load.run(result, put)
        if name == "transaction":
            return await load.run(result, lambda w: ("POST", base, dumps(patients.transaction(10))))
        if name in BASELINES:
            return await load.run(result, lambda w: ("GET", f"{base}/Patient/bench", None))
        raise SetupError(f"unknown scenario {name!r}")
    except SetupError as e:
        result.failed = str(e)
        return result


def get_token(fhir_base: str) -> str:
    root = fhir_base[: -len("/fhir")] if fhir_base.endswith("/fhir") else fhir_base.rsplit("/", 1)[0]
    response = httpx.post(f"{root}/dev/token", json={"as": "Device/bench", "scope": "system/*.cruds"},
                          timeout=REQUEST_TIMEOUT, trust_env=False)
    if not response.is_success:
        raise SetupError(f"POST {root}/dev/token -> HTTP {response.status_code}: {response.text[:800]}")
    try:
        return response.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        raise SetupError(f"POST {root}/dev/token -> no access_token in {response.text[:300]}") from None


# ---------------------------------------------------------------------------------------------- servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server in a subprocess: started, awaited (banner and/or 200 on metadata), stopped."""

    def __init__(self, name: str, argv: list[str], base: str, env: dict, cwd: str, banner: bool) -> None:
        self.name, self.argv, self.base, self.env, self.cwd, self.banner = name, argv, base, env, cwd, banner
        self.proc: subprocess.Popen | None = None
        self.output: collections.deque[str] = collections.deque(maxlen=40)
        self.banner_line: str | None = None

    def start(self) -> "Server":
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        threading.Thread(target=self._drain, args=(self.proc.stdout, True), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr, False), daemon=True).start()
        self._wait_ready()
        return self

    def _drain(self, stream, is_stdout: bool) -> None:
        for line in stream:
            line = line.rstrip("\n")
            if is_stdout and self.banner_line is None and line.strip():
                self.banner_line = line
            self.output.append(line)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(f"{self.name} exited with code {self.proc.returncode} before answering:\n"
                                 + "\n".join(self.output))
            if self.banner_line is not None or not self.banner:
                try:
                    response = httpx.get(f"{self.base}/metadata", timeout=2, trust_env=False)
                    if response.status_code == 200:
                        return
                    last = f"HTTP {response.status_code}: {response.text[:800]}"
                except httpx.HTTPError as e:
                    last = f"{type(e).__name__}: {e}"
            time.sleep(0.2)
        self.stop()
        raise SetupError(f"{self.name} did not answer GET {self.base}/metadata with 200 within {START_TIMEOUT:g} s "
                         f"(last: {last}); its output:\n" + "\n".join(self.output))

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def child_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.pop("DMP_FHIR_JWT_SECRET", None)  # development mode: /dev/token is available
    env.pop("DMP_FHIR_JWKS_FILE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def fhir_server(workdir: str) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "fhir_server.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-seed"]
    # run in a scratch directory: development mode keeps its key in ./.dmp-fhir/, not in the checkout
    return Server("fhir server", argv, f"http://127.0.0.1:{port}/fhir", child_env(), workdir, banner=True)


def baseline_server(workdir: str, http: str = "auto") -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "baseline_app:app", "--app-dir", str(BENCH_DIR),
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--http", http]
    return Server(f"baseline app ({http})", argv, f"http://127.0.0.1:{port}/fhir", child_env(), workdir,
                  banner=False)


# ---------------------------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="FHIR base of a running server, e.g. http://127.0.0.1:8080/fhir "
                                 "(default: start one with `python -m fhir_server.cli serve --no-seed`)")
    p.add_argument("--concurrency", type=int, default=16, help="concurrent clients = pooled connections (16)")
    bound = p.add_mutually_exclusive_group()
    bound.add_argument("--duration", type=float, default=10.0, help="seconds per scenario (10)")
    bound.add_argument("--requests", type=int, help="requests per scenario instead of a duration")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, from {','.join(SCENARIOS)}")
    p.add_argument("--client", choices=("raw", "httpx"), default="raw",
                   help="raw: a lean asyncio HTTP/1.1 client (default); httpx: httpx.AsyncClient (costs more CPU "
                        "per request than the baseline server, so it caps the figures)")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = p.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    if args.concurrency < 1 or (args.requests is not None and args.requests < 1) or args.duration <= 0:
        p.error("--concurrency, --requests and --duration must be positive")
    if args.url:
        args.url = args.url.rstrip("/")
        if urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
            p.error("--url must point to this machine (127.0.0.1): the benchmark only drives a local server")
    return args


async def run_all(args: argparse.Namespace, fhir_base: str | None, token: str | None,
                  baseline_bases: dict[str, str], setup_errors: dict[str, str]) -> list[Result]:
    results = []
    for name in args.scenarios:
        if name in setup_errors:
            results.append(Result(name, failed=setup_errors[name]))
            continue
        base = baseline_bases.get(name, fhir_base)
        client = new_client(args, token)
        try:
            results.append(await scenario(name, client, base, args))
        finally:
            await client.aclose()
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wants_fhir = any(s not in BASELINES for s in args.scenarios)
    servers: list[Server] = []
    setup_errors: dict[str, str] = {}
    fhir_base = token = None
    baseline_bases: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="dmp-fhir-bench-") as workdir:
        try:
            if wants_fhir:
                try:
                    if args.url:
                        fhir_base = args.url
                    else:
                        servers.append(fhir_server(workdir).start())
                        fhir_base = servers[-1].base
                    token = get_token(fhir_base)
                except SetupError as e:
                    for s in args.scenarios:
                        if s not in BASELINES:
                            setup_errors[s] = str(e)
            for name, http in BASELINES.items():
                if name in args.scenarios:
                    try:
                        servers.append(baseline_server(workdir, http).start())
                        baseline_bases[name] = servers[-1].base
                    except SetupError as e:
                        setup_errors[name] = str(e)
            started = servers[0].banner_line if servers and servers[0].name == "fhir server" else None
            args.server_label = (args.url or (f"{fhir_base}, started here: {started}" if fhir_base else "not started")
                                 if wants_fhir else "-")
            results = asyncio.run(run_all(args, fhir_base, token, baseline_bases, setup_errors))
        finally:
            for server in reversed(servers):
                server.stop()
    if args.json:
        print(json.dumps({"concurrency": args.concurrency, "duration_s": None if args.requests else args.duration,
                          "requests_per_scenario": args.requests, "client": args.client, "server": args.server_label,
                          "results": [r.as_dict() for r in results]}, indent=2))
    else:
        print_table(results, args)
    return 1 if any(r.failed or r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
