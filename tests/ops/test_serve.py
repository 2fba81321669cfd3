"""`kam serve`: granian with WhiteNoise and a task worker, as KAM is deployed."""

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from kam.ops.management.commands.serve import Supervisor, default_workers, parse_address


def kam(*args, env, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "kam.cli", *args], env=env, **kwargs)


def production_env(data_dir: Path) -> dict:
    """The environment of a fresh installation: production settings, SQLite in data_dir."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KAM_", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "GRANIAN_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="kam.config.settings", KAM_DATA_DIR=str(data_dir), KAM_DEBUG="0"
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> dict[int, str]:
    """The direct children of a process and their command lines (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{pid}$", status, re.M):
            found[int(entry.name)] = cmdline
    return found


def alive(pid: int) -> bool:
    try:
        state = re.search(r"^State:\s+(\S)", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return False
    return state is not None and state.group(1) != "Z"


def get(url: str, **headers):
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5)


def test_help_lists_the_options():
    result = subprocess.run(
        [sys.executable, "-m", "kam.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--dev", "--workers", "--threads", "--no-worker", "ADDRESS:PORT"):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("8001", ("127.0.0.1", 8001)),
        ("0.0.0.0:80", ("0.0.0.0", 80)),
        ("[::1]:8000", ("::1", 8000)),
        (":9000", ("127.0.0.1", 9000)),
    ],
)
def test_the_address_is_a_port_or_a_host_and_port(address, expected):
    assert parse_address(address) == expected


@pytest.mark.parametrize("address", ["localhost", "127.0.0.1:http", "127.0.0.1:70000"])
def test_a_wrong_address_is_refused(address):
    with pytest.raises(CommandError, match="not an address and port"):
        parse_address(address)


def test_one_web_process_per_core_at_most_four():
    assert 1 <= default_workers() <= 4


def test_when_the_web_server_dies_serve_stops_the_worker_and_fails():
    worker = [sys.executable, "-c", "import time; time.sleep(60)"]
    web = [sys.executable, "-c", "import sys; sys.exit(3)"]
    supervisor = Supervisor(web, worker, io.StringIO())
    started = time.monotonic()

    with pytest.raises(CommandError, match="exit code 3"):
        supervisor.run()

    assert supervisor.worker.poll() is not None
    assert time.monotonic() - started < 10


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux /proc")
def test_serve_answers_with_hashed_gzipped_static_files_and_stops_with_its_worker(tmp_path):
    env = production_env(tmp_path / "data")
    migrate = kam("migrate", "--noinput", env=env, stdout=subprocess.DEVNULL)
    assert migrate.wait(timeout=120) == 0
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = kam(
            "serve", f"127.0.0.1:{port}", "--workers", "1", env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = get(f"http://127.0.0.1:{port}/accounts/login/", **{"Accept-Language": "en"})
                break
            except urllib.error.HTTPError as error:
                pytest.fail(f"the login page answered {error.code}:\n{log.read_text()}")
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"no answer within 60 s:\n{log.read_text()}"
                time.sleep(0.1)
        html = page.read().decode()
        assert page.status == 200
        assert page.headers["Server"] == "granian"
        processes = children(server.pid)
        assert any("granian" in line for line in processes.values()), processes
        assert any("db_worker" in line for line in processes.values()), processes
        for pid, line in list(processes.items()):
            if "granian" in line:
                processes.update(children(pid))  # granian's own web processes
        assert len(processes) >= 3, processes

        # The stylesheet goes by its content hash, far-future cached, gzipped on request.
        css = re.search(r'href="(/static/kam/kam\.[0-9a-f]{12}\.css)"', html)
        assert css, html
        response = get(f"http://127.0.0.1:{port}{css.group(1)}", **{"Accept-Encoding": "gzip"})
        assert response.headers["Content-Encoding"] == "gzip"
        assert "immutable" in response.headers["Cache-Control"]
        assert "max-age=315360000" in response.headers["Cache-Control"]
        assert response.read()[:2] == b"\x1f\x8b"
        assert (tmp_path / "data" / "static" / "staticfiles.json").exists()

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) == 0
        for pid, line in processes.items():
            assert not alive(pid), f"still running after kam serve stopped: {line}"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
