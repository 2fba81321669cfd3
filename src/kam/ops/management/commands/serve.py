"""``kam serve [ADDRESS:PORT]``: KAM as it is deployed.

Collects the static files (hashed, gzipped) into the data directory, then runs two
children and watches them:

- granian, the WSGI server (``granian --interface wsgi kam.config.wsgi:application``),
  with one process per core up to four (``--workers`` / ``KAM_WORKERS``) and a few
  request threads in each (``--threads`` / ``KAM_THREADS``); WhiteNoise, a middleware,
  serves the static files;
- one background-task worker, ``kam db_worker`` (``--no-worker`` / ``KAM_WORKER=0``
  leaves it out, for installations that run it as a service of its own).

Ctrl-C or SIGTERM stops both: each child gets one SIGTERM (granian finishes the requests
in flight, the worker the task it runs) and is killed if it is still there after
``STOP_TIMEOUT`` seconds. The children run in their own process group so that a Ctrl-C
in the terminal reaches this process only, and each child is told exactly once (a second
signal makes the worker abandon its task). When the web server dies, ``kam serve`` stops
and exits 1 for the service manager to restart it; when the worker dies, it is started
again after a pause.

``kam serve --dev`` is Django's autoreloading runserver instead (for working on KAM),
still with a worker beside it.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from kam.config.env import env_bool, env_int

DEFAULT_ADDRESS = "127.0.0.1:8000"
MAX_DEFAULT_WORKERS = 4
# Per web process: each thread holds its own database connection while it serves.
DEFAULT_THREADS = 4
STOP_TIMEOUT = 30.0
WORKER_RESTART_PAUSE = 5.0
POLL = 0.2


def default_workers() -> int:
    """One web process per core this process may run on, at most four."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def parse_address(address: str) -> tuple[str, int]:
    """``8000``, ``0.0.0.0:8000``, ``[::1]:8000`` -> (host, port); host defaults to loopback."""
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", address
    host = host.removeprefix("[").removesuffix("]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"{address!r} is not an address and port (e.g. 127.0.0.1:8000)")
    return host, int(port)


def _positive(value: str) -> int:
    import argparse

    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return int(value)


class Command(BaseCommand):
    help = (
        "Serve KAM as it is deployed: collectstatic, then granian (WSGI) with WhiteNoise "
        "for static files and one background-task worker (kam db_worker). "
        "--dev runs Django's autoreloading runserver instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "address",
            nargs="?",
            default=DEFAULT_ADDRESS,
            metavar="ADDRESS:PORT",
            help=f"where to listen (default {DEFAULT_ADDRESS}; 0.0.0.0:8000 for every interface)",
        )
        parser.add_argument(
            "--dev",
            action="store_true",
            help="Django's runserver, reloading on code changes: for working on KAM, not "
            "for serving a team",
        )
        parser.add_argument(
            "--workers",
            type=_positive,
            default=None,
            help="web server processes (default: KAM_WORKERS, else one per core, at most "
            f"{MAX_DEFAULT_WORKERS}; here {default_workers()})",
        )
        parser.add_argument(
            "--threads",
            type=_positive,
            default=None,
            help="request threads in each web process (default: KAM_THREADS, else "
            f"{DEFAULT_THREADS})",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="start no background-task worker (default: KAM_WORKER=0 does the same); "
            "run `kam db_worker` yourself then",
        )

    def handle(self, *args, address, dev, workers, threads, no_worker, **options):
        host, port = parse_address(address)
        with_worker = not no_worker and env_bool("KAM_WORKER", True)
        if dev:
            return self._dev(address, with_worker)
        workers = workers or env_int("KAM_WORKERS", default_workers())
        threads = threads or env_int("KAM_THREADS", DEFAULT_THREADS)
        if workers < 1 or threads < 1:
            raise CommandError("KAM_WORKERS and KAM_THREADS must be at least 1")

        started = time.monotonic()
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(
            f"Static files collected into {settings.STATIC_ROOT} "
            f"in {time.monotonic() - started:.1f} s"
        )
        web_command = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--no-ws",
            "--respawn-failed-workers",
            "kam.config.wsgi:application",
        ]
        self.stdout.write(
            f"KAM serves on http://{_url_host(host)}:{port}/ with {workers} web process(es) "
            f"of {threads} thread(s)" + (" and a task worker" if with_worker else "")
        )
        self.stdout.flush()
        Supervisor(web_command, _worker_command() if with_worker else None, self.stderr).run()

    def _dev(self, address: str, with_worker: bool) -> None:
        # runserver's autoreloader runs this command again in a child process (RUN_MAIN);
        # only the outer one, which lives as long as the whole session, owns the worker.
        worker = None
        if with_worker and os.environ.get("RUN_MAIN") != "true":
            worker = _start(_worker_command())
        try:
            call_command("runserver", address)
        finally:
            if worker is not None:
                _stop([worker])


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _worker_command() -> list[str]:
    # --no-reload: the worker's own autoreloader (on under KAM_DEBUG=1) would leave a
    # grandchild behind when stopped.
    return [sys.executable, "-m", "kam.cli", "db_worker", "--no-reload"]


def _start(command: list[str]) -> subprocess.Popen:
    if os.name == "nt":
        return subprocess.Popen(command, creationflags=subprocess.CREATE_NEW_PROCESS_GROUP)
    return subprocess.Popen(command, start_new_session=True)


def _stop(processes: list[subprocess.Popen], timeout: float = STOP_TIMEOUT) -> None:
    """One SIGTERM each, then wait; kill whatever outlives the timeout."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _Stop(Exception):
    pass


class Supervisor:
    """Runs the web server and (optionally) the worker until a signal or the server's end."""

    def __init__(self, web_command, worker_command, stderr):
        self.web_command = web_command
        self.worker_command = worker_command
        self.stderr = stderr
        self.web = None
        self.worker = None

    def run(self) -> None:
        previous = {}
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signum = getattr(signal, name)
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            self.web = _start(self.web_command)
            if self.worker_command:
                self.worker = _start(self.worker_command)
            self._watch()
        except (KeyboardInterrupt, _Stop):
            pass
        finally:
            _stop([p for p in (self.web, self.worker) if p is not None])
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _on_signal(self, signum, frame):
        raise _Stop()

    def _watch(self) -> None:
        worker_died_at = None
        while True:
            code = self.web.poll()
            if code is not None:
                raise CommandError(f"the web server stopped (exit code {code})")
            if self.worker is not None and self.worker.poll() is not None:
                if worker_died_at is None:
                    self.stderr.write(
                        f"kam serve: the task worker stopped (exit code {self.worker.returncode});"
                        f" starting it again in {WORKER_RESTART_PAUSE:.0f} s"
                    )
                    worker_died_at = time.monotonic()
                elif time.monotonic() - worker_died_at >= WORKER_RESTART_PAUSE:
                    self.worker = _start(self.worker_command)
                    worker_died_at = None
            time.sleep(POLL)
