"""`dmp-fhir serve` as an operator runs it: --workers, --log-level, SIGTERM finishing in-flight requests."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from fhir_server.cli import NO_WORKERS_ON_EMBEDDED, main
from tests.factories import patient
from tests.stores import requires

MONGODB_URI = os.environ.get("DMP_FHIR_MONGODB_URI")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path, *args, **env_extra):
    port = _free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DMP_FHIR_")}, **env_extra}
    proc = subprocess.Popen([sys.executable, "-m", "fhir_server.cli", "serve", "--port", str(port), *args],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return proc, port, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}: {proc.stderr.read()}")
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("serve did not become ready")


def _stop(proc) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err


def _token(base: str) -> str:
    return httpx.post(f"{base}/dev/token", json={"as": "Device/ops", "scope": "system/*.cruds"}).json()["access_token"]


def test_workers_refused_on_the_embedded_store(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DMP_FHIR_MONGODB_URI", raising=False)
    assert main(["serve", "--workers", "2"]) == 2
    assert capsys.readouterr().err.strip() == NO_WORKERS_ON_EMBEDDED


@pytest.mark.parametrize("bad", ["0", "-1", "two"])
def test_workers_must_be_a_positive_number(bad, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--workers", bad])
    assert exit_.value.code == 2 and "--workers" in capsys.readouterr().err


def test_sigterm_lets_the_in_flight_request_finish_then_exits_0(tmp_path):
    proc, port, base = _serve(tmp_path, "--no-seed")
    token = _token(base)
    body = json.dumps(patient()).encode()
    half = len(body) // 2
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        # the request has started (headers and half the body are in) when SIGTERM arrives
        conn.sendall(f"POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                     f"Content-Type: application/fhir+json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body[:half])
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert proc.poll() is None                      # still serving the request in flight
        conn.sendall(body[half:])
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += conn.recv(65536)
    assert answer.startswith(b"HTTP/1.1 201 ")
    code, err = _stop(proc)
    assert code == 0
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [(l["interaction"], l["status"]) for l in lines if l["interaction"] == "create"] == [("create", 201)]
    with pytest.raises(httpx.HTTPError):            # and nothing listens any more
        httpx.get(f"{base}/healthz", timeout=2)


def test_log_level_warning_writes_no_access_lines(tmp_path):
    proc, port, base = _serve(tmp_path, "--no-seed", "--log-level", "warning")
    assert httpx.get(f"{base}/healthz").status_code == 200
    code, err = _stop(proc)
    assert code == 0 and not [line for line in err.splitlines() if line.startswith("{")]


@requires("shared_store")     # several processes cannot share the embedded store
def test_two_workers_share_one_database_and_one_notice_lease(tmp_path):
    db = f"test_workers_{uuid.uuid4().hex[:10]}"
    proc, port, base = _serve(tmp_path, "--workers", "2", DMP_FHIR_MONGODB_URI=MONGODB_URI, DMP_FHIR_DB=db)
    try:
        assert "2 worker processes" in proc.stdout.readline()
        headers = {"Authorization": f"Bearer {_token(base)}", "Content-Type": "application/fhir+json"}
        ids = [httpx.post(f"{base}/fhir/Patient", json=patient(), headers=headers).json()["id"] for _ in range(6)]
        for pid in ids:      # whichever worker answers, it reads what the other wrote
            assert httpx.get(f"{base}/fhir/Patient/{pid}", headers=headers).status_code == 200
        import pymongo
        client = pymongo.MongoClient(MONGODB_URI)
        leases = list(client[db]["leases"].find())
        assert [lease["_id"] for lease in leases] == ["notices-hidden-14-days"]
    finally:
        code, err = _stop(proc)
        pymongo.MongoClient(MONGODB_URI).drop_database(db)
    assert code == 0, err
