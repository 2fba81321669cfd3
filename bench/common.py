"""What every benchmark of ``make bench`` shares: the cached data set, Django set-up,
timing, and the result rows the table prints.

The data of a preset is generated once (``kam generate --preset P --password
bench``, then its figures computed) into ``bench/.cache/<preset>-<seed>-<key>/``,
git-ignored; the key changes with the generator, so a change to it generates
afresh, and new migrations are applied to the cached set. Benchmarks that write
work on a copy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
KAM = str(Path(sys.executable).with_name("kam"))
PASSWORD = "bench-password"
SEED = 4242

# The users every benchmark acts as: a rep, a manager of three teams, the admin.
REP, MANAGER, ADMIN = "rep001", "mgr01", "admin"


@dataclass
class Result:
    """One line of the table. ``seconds`` is the figure measured; ``baseline`` the
    same work done the plainest way in the same run (None when there is none);
    ``passed`` whether the issue's target is met, ``target`` how it reads."""

    benchmark: str
    who: str
    seconds: float | None
    target: str
    passed: bool
    baseline: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0) or self.seconds is None:
            return None
        return self.seconds / self.baseline


def _key() -> str:
    """Changes with the generator; a new migration is applied to the cached set instead."""
    return hashlib.sha256((ROOT / "src/kam/ops/generate.py").read_bytes()).hexdigest()[:10]


def data_dir(preset: str) -> Path:
    """The cached data directory of ``preset``, generated on first use.

    With ``DATABASE_URL`` set (PostgreSQL), the data is generated into that
    database instead, and the directory holds only the marker and the key."""
    url = os.environ.get("DATABASE_URL", "")
    where = "pg-" + hashlib.sha256(url.encode()).hexdigest()[:8] + "-" if url else ""
    target = CACHE / f"{where}{preset}-{SEED}-{_key()}"
    if (target / "ready").exists():
        # Bring the cached set up to this code, as an upgrade would: new migrations,
        # then the stored figures of rules that changed (nothing when none did).
        env = {**os.environ, "KAM_DATA_DIR": str(target)}
        subprocess.run([KAM, "migrate", "--noinput", "-v0"], env=env, check=True)
        subprocess.run([KAM, "refresh"], env=env, check=True, stdout=subprocess.DEVNULL)
        return target
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    env = {**os.environ, "KAM_DATA_DIR": str(target), "KAM_DEBUG": "0"}
    print(f"bench: generating the {preset} data set into {target} (cached) ...", flush=True)
    started = time.perf_counter()
    subprocess.run([KAM, "migrate", "--noinput", "-v0"], env=env, check=True)
    if url:  # a database of its own: start from nothing
        subprocess.run([KAM, "flush", "--noinput", "-v0"], env=env, check=True)
    subprocess.run(
        [KAM, "generate", "--preset", preset, "--seed", str(SEED), "--password", PASSWORD],
        env=env,
        check=True,
    )
    subprocess.run([sys.executable, str(ROOT / "bench" / "prepare.py")], env=env, check=True)
    (target / "ready").write_text(f"{time.perf_counter() - started:.1f}\n")
    return target


def collect_static(data: Path) -> None:
    """The hashed static files the pages name (``kam serve`` collects them the same way)."""
    env = {**os.environ, "KAM_DATA_DIR": str(data)}
    subprocess.run([KAM, "collectstatic", "--noinput", "-v0"], env=env, check=True)


def copy_of(source: Path, into: Path) -> Path:
    """A copy of a cached SQLite data directory, for benchmarks that write (on
    PostgreSQL the writes go to the benchmark database itself)."""
    into.mkdir(parents=True, exist_ok=True)
    for name in ("kam.sqlite3", "secret_key"):
        if (source / name).exists():
            shutil.copy2(source / name, into / name)
    return into


def setup_django(data: Path) -> None:
    os.environ["KAM_DATA_DIR"] = str(data)
    os.environ.setdefault("KAM_SECRET_KEY", "bench-" + "x" * 40)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.config.settings")
    import django

    django.setup()


def best_of(func, *, repeat: int = 5, warmup: int = 1) -> float:
    """The median of ``repeat`` timed calls after ``warmup`` untimed ones, in seconds."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)
