"""The README's commands run: the tour against a live `dmp-fhir serve`, the others by name."""

import re
import subprocess
import sys
from pathlib import Path

from tests.test_cli import _env, _free_port, _wait_for

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _block_after(heading: str) -> str:
    section = README.split(heading, 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_five_minute_tour_runs_against_a_live_server(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "fhir_server.cli", "serve", "--port", str(port)],
                            cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        _wait_for(f"http://127.0.0.1:{port}")
        script = _block_after("## A five-minute tour").replace("http://127.0.0.1:8080", f"http://127.0.0.1:{port}")
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert lines[0] == "4.0.1"
        assert '"total":4' in lines[1]             # the médecin traitant sees all four documents
        assert lines[2:4] == ["404", "403"]         # masked document hidden; blocked professional refused
        assert '"total":1' in lines[4] and '"total":1' in lines[5]   # the emergency access and its notice
    finally:
        proc.terminate()
        proc.wait(10)


def test_every_command_of_the_readme_exists():
    from fhir_server.cli import _parser
    commands = set(re.findall(r"`dmp-fhir (\w+)", README))
    known = set(_parser()._subparsers._group_actions[0].choices)
    assert commands and commands <= known
