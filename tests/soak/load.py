"""A bounded soak of a real `dmp-fhir serve` process: concurrent clients, a mix of every kind of request.

Used by tests/soak/test_soak.py (what must hold) and benchmarks/soak.py (the figures of the same run).
Every request has a timeout; the run stops by itself after `seconds`; traffic goes to 127.0.0.1 only.

Each client owns one Observation that it updates read-modify-write with If-Match (a counter in
valueQuantity: a lost update shows as a counter below the number of successful PUTs), and every client
also PUTs one shared Observation without If-Match (all of those must land, one version each).
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.factories import patient

SERVER = Path(__file__).resolve().parent / "server.py"
REPO = SERVER.parents[2]
REQUEST_TIMEOUT = 10.0
PATIENT = "pat-claire-martin"
FAILED_MARK = "urn:dmp-fhir:soak:rolled-back"


def observation(value: float = 0, mark: str | None = None) -> dict:
    obs = {"resourceType": "Observation", "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
           "subject": {"reference": f"Patient/{PATIENT}"},
           "valueQuantity": {"value": value, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}
    if mark:
        obs["identifier"] = [{"system": FAILED_MARK, "value": mark}]
    return obs


@dataclass
class Run:
    """What the clients saw."""
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    unexpected: list[str] = field(default_factory=list)   # 5xx, timeouts, answers outside the allowed set
    own_updates: dict[str, int] = field(default_factory=dict)     # Observation id -> successful writes
    own_puts: dict[str, int] = field(default_factory=dict)        # Observation id -> successful PUTs
    shared_puts: int = 0
    answered: set = field(default_factory=set)      # the X-Request-Id of every answer (any status)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, status: int | None, millis: float, allowed: tuple[int, ...], detail: str = ""):
        with self.lock:
            self.latencies[kind].append(millis)
            self.statuses[kind][status] += 1
            if status not in allowed and len(self.unexpected) < 50:
                self.unexpected.append(f"{kind}: {status} {detail[:300]}")

    def percentile(self, kind: str, p: float) -> float:
        ordered = sorted(self.latencies[kind])
        return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1] if ordered else float("nan")

    def total(self) -> int:
        return sum(len(v) for v in self.latencies.values())


class Server:
    """`tests/soak/server.py serve` in a scratch directory, on a free loopback port, in development mode."""

    def __init__(self):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.dir = tempfile.TemporaryDirectory()
        env = {k: v for k, v in os.environ.items() if k not in ("DMP_FHIR_JWT_SECRET", "DMP_FHIR_JWKS_FILE")}
        self.uri = env.get("DMP_FHIR_MONGODB_URI")
        self.db = env["DMP_FHIR_DB"] = f"soak_{uuid.uuid4().hex[:12]}"     # a database of its own, dropped at stop
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        # the access log (one line per request) goes to a file: an unread pipe would fill and stall the server
        self.log = open(Path(self.dir.name) / "server.log", "w+")
        self.proc = subprocess.Popen([sys.executable, str(SERVER), "serve", "--port", str(self.port)],
                                     cwd=self.dir.name, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self._wait()

    def _wait(self, timeout: float = 90.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self._log_tail()}")
            try:
                if httpx.get(f"{self.base}/fhir/metadata", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not answer in time")

    def _log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read()[-2000:]

    def token(self, sub: str, **claims) -> str:
        body = {"as": sub, **claims}
        return httpx.post(f"{self.base}/dev/token", json=body, timeout=REQUEST_TIMEOUT).json()["access_token"]

    def stop(self, timeout: float = 60.0) -> dict | None:
        """Graceful shutdown; returns the integrity report the process prints once stopped."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise RuntimeError("server did not stop within a minute of SIGTERM (a hung request?)")
        finally:
            self.log.close()
            self.dir.cleanup()
            if self.uri:
                import pymongo
                pymongo.MongoClient(self.uri).drop_database(self.db)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else None


class Client:
    def __init__(self, server: Server, run: Run, token: str, stranger: str, shared: str, seed: int):
        self.http = httpx.Client(base_url=f"{server.base}/fhir", timeout=REQUEST_TIMEOUT,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
        self.stranger = {"Authorization": f"Bearer {stranger}"}
        self.run, self.shared, self.random = run, shared, random.Random(seed)
        self.own = self._create_own()

    def send(self, kind: str, method: str, path: str, allowed: tuple[int, ...] = (200, 201), **kw):
        start = time.perf_counter()
        try:
            response = self.http.request(method, path, **kw)
        except httpx.HTTPError as e:
            self.run.record(kind, None, (time.perf_counter() - start) * 1000, allowed, f"{type(e).__name__} {e}")
            return None
        self.run.record(kind, response.status_code, (time.perf_counter() - start) * 1000, allowed, response.text)
        with self.run.lock:
            self.run.answered.add(response.headers.get("X-Request-Id"))
        return response

    def _create_own(self) -> str:
        response = self.send("create", "POST", "Observation", json=observation())
        if response is None or response.status_code != 201:
            raise RuntimeError(f"could not create the client's Observation: {response and response.text}")
        self.run.own_updates[response.json()["id"]] = 0
        self.run.own_puts[response.json()["id"]] = 0
        return response.json()["id"]

    # -- the mix --------------------------------------------------------------------------------
    def read(self):
        self.send("read", "GET", f"Patient/{PATIENT}")

    def search(self):
        self.send("search", "GET", f"Observation?patient=Patient/{PATIENT}&_count=10")

    def create(self):
        self.send("create", "POST", "Observation", json=observation(self.random.random() * 100))

    def update_own(self):
        """Read-modify-write with If-Match: 412 when another write got there first (none does: it is ours)."""
        got = self.send("read", "GET", f"Observation/{self.own}")
        if got is None or got.status_code != 200:
            return
        body = got.json()
        body["valueQuantity"]["value"] += 1
        response = self.send("update", "PUT", f"Observation/{self.own}", json=body,
                             headers={"If-Match": got.headers["ETag"]}, allowed=(200, 412))
        if response is not None and response.status_code == 200:
            with self.run.lock:
                self.run.own_updates[self.own] += 1
                self.run.own_puts[self.own] += 1

    def patch_own(self):
        # a new note each time: a PATCH that changes nothing makes no version
        ops = [{"op": "add", "path": "/note", "value": [{"text": uuid.uuid4().hex}]}]
        response = self.send("patch", "PATCH", f"Observation/{self.own}", content=json.dumps(ops),
                             headers={"Content-Type": "application/json-patch+json"})
        if response is not None and response.status_code == 200:
            with self.run.lock:
                self.run.own_updates[self.own] += 1

    def update_shared(self):
        body = {**observation(self.random.random()), "id": self.shared}
        response = self.send("update-shared", "PUT", f"Observation/{self.shared}", json=body)
        if response is not None and response.status_code == 200:
            with self.run.lock:
                self.run.shared_puts += 1

    def transaction(self):
        entries = [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": observation(i),
                    "request": {"method": "POST", "url": "Observation"}} for i in range(5)]
        self.send("transaction", "POST", "", json={"resourceType": "Bundle", "type": "transaction", "entry": entries})

    def failing_transaction(self):
        """Four good entries and a bad one: nothing of it may be stored."""
        mark = uuid.uuid4().hex
        entries = [{"resource": observation(i, mark), "request": {"method": "POST", "url": "Observation"}}
                   for i in range(4)]
        entries.append({"resource": {**observation(9, mark), "status": "not-a-status"},
                        "request": {"method": "POST", "url": "Observation"}})
        self.send("failing-transaction", "POST", "", allowed=(400, 422),
                  json={"resourceType": "Bundle", "type": "transaction", "entry": entries})

    def refused_write(self):
        self.send("refused-write", "POST", "Observation", json=observation(1), headers=self.stranger,
                  allowed=(403,))

    MIX = (("read", 6), ("search", 3), ("create", 2), ("update_own", 2), ("patch_own", 1), ("update_shared", 1),
           ("transaction", 1), ("failing_transaction", 1), ("refused_write", 1))

    def loop(self, until: float):
        names = [name for name, weight in self.MIX for _ in range(weight)]
        while time.monotonic() < until:
            getattr(self, self.random.choice(names))()
        self.http.close()


def soak(clients: int = 16, seconds: float = 20.0, seed: int = 20261201) -> tuple[Run, dict | None, dict]:
    """Run the soak; returns what the clients saw, the server's integrity report and the final state."""
    server = Server()
    run = Run()
    try:
        token = server.token("Device/soak", scope="system/*.cruds")
        stranger = server.token("Practitioner/pra-soak-stranger", scope="user/*.cruds")
        admin = httpx.Client(base_url=f"{server.base}/fhir", timeout=REQUEST_TIMEOUT,
                             headers={"Authorization": f"Bearer {token}"})
        if admin.get(f"Patient/{PATIENT}").status_code == 404:      # on MongoDB `serve` loads no seed
            admin.put(f"Patient/{PATIENT}", json={**patient(), "id": PATIENT}).raise_for_status()
        shared = admin.post("Observation", json=observation()).json()["id"]
        workers = [Client(server, run, token, stranger, shared, seed + i) for i in range(clients)]
        start = time.monotonic()
        threads = [threading.Thread(target=w.loop, args=(start + seconds,), daemon=True) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 4 * REQUEST_TIMEOUT)
        run.seconds = time.monotonic() - start
        if any(t.is_alive() for t in threads):
            run.unexpected.append("a client was still waiting after its deadline plus four request timeouts")
        final = _final_state(admin, shared, list(run.own_updates))
        admin.close()
    finally:
        report = server.stop()
    return run, report, final


def _final_state(admin: httpx.Client, shared: str, own: list[str]) -> dict:
    """Versions and counters as stored, read back through the API."""
    state = {"shared_version": int(admin.get(f"Observation/{shared}").json()["meta"]["versionId"]), "own": {}}
    for id_ in own:
        body = admin.get(f"Observation/{id_}").json()
        state["own"][id_] = {"version": int(body["meta"]["versionId"]), "counter": body["valueQuantity"]["value"]}
    state["rolled_back_stored"] = admin.get(f"Observation?identifier={FAILED_MARK}|&_summary=count").json()["total"]
    return state


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
