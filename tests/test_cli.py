"""The commands of the contract: token, capability, serve (banner, seeded store, live HTTP)."""

import json
import re
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from tests import factories

from fhir_server.cli import main
from fhir_server.config import Settings
from fhir_server.auth.tokens import TokenService
from fhir_server.capability import capability_statement

from .stores import requires

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMP_FHIR_")}
    return env


def test_token_command_prints_a_token_serve_accepts(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for k in list(os.environ):
        if k.startswith("DMP_FHIR_"):
            monkeypatch.delenv(k)
    assert main(["token", "--as", "Practitioner/p1", "--mode", "bris_de_glace", "--reason", "coma"]) == 0
    token = capsys.readouterr().out.strip()
    actor = TokenService(Settings()).verify(token)
    assert actor.reference == "Practitioner/p1" and actor.access_mode == "bris_de_glace" and actor.reason == "coma"
    assert (tmp_path / ".dmp-fhir" / "dev-secret").exists()


def test_token_command_refuses_break_glass_without_reason(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["token", "--as", "Practitioner/p1", "--mode", "bris_de_glace"]) == 2
    assert "reason" in capsys.readouterr().err


def test_capability_command_equals_metadata(client, capsys, settings):
    assert main(["capability"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == capability_statement() == client.get("/fhir/metadata").json()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(base: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{base}/fhir/metadata").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not answer")


def test_serve_prints_banner_seeds_and_answers(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "fhir_server.cli", "serve", "--port", str(port)],
                            cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = proc.stdout.readline()
        assert "embedded" in banner and f"http://127.0.0.1:{port}/fhir" in banner and "token" in banner
        base = f"http://127.0.0.1:{port}"
        _wait_for(base)
        token = httpx.post(f"{base}/dev/token", json={"as": "Device/ops", "scope": "system/*.cruds"}).json()["access_token"]
        r = httpx.get(f"{base}/fhir/Patient?_count=1", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["total"] > 0
    finally:
        proc.terminate()
        proc.wait(10)


def test_operator_commands_run_on_the_configured_store(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for k in list(os.environ):
        if k.startswith("DMP_FHIR_"):
            monkeypatch.delenv(k)
    assert main(["audit", "verify"]) == 0
    assert "0 broken chain(s)" in capsys.readouterr().out
    assert main(["purge", "--dry-run"]) == 0
    assert "nothing due" in capsys.readouterr().out
    assert main(["purge"]) == 0
    assert "0 record(s) purged" in capsys.readouterr().out
    assert main(["notify"]) == 0
    assert "0 notice(s) sent" in capsys.readouterr().out
    assert main(["seed"]) == 0
    assert "seed resources loaded" in capsys.readouterr().out
    assert main(["seed", "--patients", "3"]) == 0
    captured = capsys.readouterr()
    assert "(3 patients)" in captured.out and "3/3 patients" in captured.err


def test_compose_file_runs_commands_that_exist():
    from fhir_server.cli import _parser
    compose = (ROOT / "deploy" / "compose.yaml").read_text()
    used = set(re.findall(r"dmp-fhir (\w+)", compose))
    assert used == {"seed", "serve"}
    assert used <= set(_parser()._subparsers._group_actions[0].choices)
    assert "replSet" in compose and "DMP_FHIR_MONGODB_URI" in compose


H2C_OFFER = "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAEAAEAAAAIAAAAAAAMAAAAAZAAEAQAAAAAFAABAAA\r\n"


def _request(method: str, port: int, path: str, body: bytes = b"", headers: str = "", offer: bool = True) -> bytes:
    """An HTTP/1.1 request as a Java client offering HTTP/2 writes it (`offer`), or a plain one."""
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{H2C_OFFER if offer else ''}{headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _response(s: socket.socket, pending: bytes = b"") -> tuple[str, bytes, bytes]:
    """(head, body, bytes read beyond this response) of the next response on `s`."""
    data = pending
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(rest) < length:
        rest += s.recv(65536)
    return head.decode(), rest[:length], rest[length:]


def _raw_post(port: int, path: str, body: bytes, headers: str = "") -> tuple[str, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(_request("POST", port, path, body, headers))
        head, body, _ = _response(s)
    return head, body


def test_serve_keeps_post_bodies_of_clients_offering_h2c(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "fhir_server.cli", "serve", "--port", str(port), "--no-seed"],
                            cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        _wait_for(f"http://127.0.0.1:{port}")
        head, body = _raw_post(port, "/dev/token", b'{"as": "Device/ops", "scope": "system/*.cruds"}',
                               "Content-Type: application/json\r\n")
        assert head.startswith("HTTP/1.1 200"), head
        token = json.loads(body)["access_token"]
        patient = factories.patient(family="Upgrade", given="Java")
        head, body = _raw_post(port, "/fhir/Patient", json.dumps(patient).encode(),
                               f"Content-Type: application/fhir+json\r\nAuthorization: Bearer {token}\r\n")
        assert head.startswith("HTTP/1.1 201"), (head, body)
        created = json.loads(body)
        assert created["name"] == patient["name"] and "101 Switching" not in head
        stored = httpx.get(f"http://127.0.0.1:{port}/fhir/Patient/{created['id']}",
                           headers={"Authorization": f"Bearer {token}"}).json()
        assert stored["name"] == patient["name"]
        _an_offer_keeps_the_bytes_that_follow_it(port, token, patient)
    finally:
        proc.terminate()
        proc.wait(10)
    assert "Unsupported upgrade" not in proc.stderr.read()


def _an_offer_keeps_the_bytes_that_follow_it(port: int, token: str, patient: dict) -> None:
    """On one connection: a body sent after its head, then a request sent with the one before it (pipelined),
    then a GET offering h2c with no body: each is answered in HTTP/1.1, in order, nothing lost."""
    fhir = f"Content-Type: application/fhir+json\r\nAuthorization: Bearer {token}\r\n"
    body = json.dumps({**patient, "name": [{"family": "Separate", "given": ["Body"]}]}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        whole = _request("POST", port, "/fhir/Patient", body, fhir)
        s.sendall(whole[:-len(body)])
        time.sleep(0.2)                                     # the head alone reaches the server first
        s.sendall(whole[-len(body):])
        head, answer, pending = _response(s)
        assert head.startswith("HTTP/1.1 201"), (head, answer)
        created = json.loads(answer)
        assert created["name"][0]["family"] == "Separate"
        s.sendall(_request("POST", port, "/fhir/Patient", json.dumps(patient).encode(), fhir)
                  + _request("GET", port, f"/fhir/Patient/{created['id']}", headers=fhir, offer=False))
        head, answer, pending = _response(s, pending)
        assert head.startswith("HTTP/1.1 201") and json.loads(answer)["name"] == patient["name"], head
        head, answer, pending = _response(s, pending)
        assert head.startswith("HTTP/1.1 200") and json.loads(answer)["id"] == created["id"], head
        s.sendall(_request("GET", port, f"/fhir/Patient/{created['id']}", headers=fhir))
        head, answer, _ = _response(s, pending)
        assert head.startswith("HTTP/1.1 200") and json.loads(answer)["name"][0]["family"] == "Separate", head


@requires("shared_store")
def test_two_serve_processes_share_one_database(tmp_path):
    """Two `dmp-fhir serve` processes on one MongoDB: what one writes the other reads, writes without If-Match
    to one resource from both land one after another, and the patient's trace chain stays one unbroken chain."""
    from concurrent.futures import ThreadPoolExecutor

    from fhir_server.audit.writer import verify
    from fhir_server.storage.mongo import MongoStore
    from tests.factories import patient

    db = f"test_two_{uuid.uuid4().hex[:12]}"
    secret = "two-processes-test-secret-of-enough-length"
    env = {**_env(tmp_path), "DMP_FHIR_MONGODB_URI": os.environ["DMP_FHIR_MONGODB_URI"], "DMP_FHIR_DB": db,
           "DMP_FHIR_JWT_SECRET": secret}
    ports = [_free_port(), _free_port()]
    procs = [subprocess.Popen([sys.executable, "-m", "fhir_server.cli", "serve", "--port", str(port)], cwd=tmp_path,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for port in ports]
    store = MongoStore.connect(os.environ["DMP_FHIR_MONGODB_URI"], db)
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base in bases:
            _wait_for(base)
        token = TokenService(Settings(jwt_secret=secret)).mint("Device/ops", scope="system/*.cruds")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
        created = httpx.post(f"{bases[0]}/fhir/Patient", json=patient(), headers=headers)
        assert created.status_code == 201
        body = created.json()
        assert httpx.get(f"{bases[1]}/fhir/Patient/{body['id']}", headers=headers).json() == body

        def put(i: int) -> int:
            renamed = {**body, "name": [{"family": f"Writer{i}", "given": ["Claire"]}]}
            return httpx.put(f"{bases[i % 2]}/fhir/Patient/{body['id']}", json=renamed, headers=headers,
                             timeout=60).status_code

        with ThreadPoolExecutor(6) as pool:
            assert list(pool.map(put, range(6))) == [200] * 6
        history = httpx.get(f"{bases[1]}/fhir/Patient/{body['id']}/_history", headers=headers).json()
        assert sorted(int(e["resource"]["meta"]["versionId"]) for e in history["entry"]) == list(range(1, 8))
        chain = store.find("AuditEvent", {"_chain.key": body["id"]}, sort=[("_chain.seq", 1)])
        assert [d["_chain"]["seq"] for d in chain] == list(range(1, 10))     # create, read, 6 updates, history
        assert verify(store)[1] == []
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        store.client.drop_database(db)
