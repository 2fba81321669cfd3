"""Front-end libraries from the npm registry, pinned in ``assets.lock.json``.

No Node.js is needed and no third-party file is committed: ``python -m kam.assets``
(or ``kam assets``) downloads each package's tarball, checks it against the
``sha512`` integrity recorded in the lock file *before* opening it, and extracts
only the files the lock file lists into ``src/kam/web/static/vendor/<package>/``.

The lock file is JSON::

    {"packages": [{"name": "htmx.org", "version": "2.0.11",
                   "tarball": "https://.../htmx.org-2.0.11.tgz",
                   "integrity": "sha512-<base64>",
                   "files": ["package/dist/htmx.min.js", "package/LICENSE"]}]}

Each listed file lands under its base name, so base names must differ within a
package. A run is idempotent: a stamp file beside the extracted files records the
integrity of the tarball they came from and the SHA-256 of each file; when both
still match, nothing is downloaded. Refreshing a version: update the lock entry with
``npm view <pkg>@<version> dist.tarball dist.integrity`` and run again.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io
import json
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_LOCK = PACKAGE_DIR.parent.parent / "assets.lock.json"
DEFAULT_DEST = PACKAGE_DIR / "web" / "static" / "vendor"
STAMP = ".stamp.json"

# A tarball larger than this is refused before it is read whole: the packages we
# use are a few MB; a runaway download should not fill the memory.
MAX_TARBALL_BYTES = 64 * 1024 * 1024
DOWNLOAD_TIMEOUT_SECONDS = 120

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_INTEGRITY = re.compile(r"^sha512-([A-Za-z0-9+/]{86}==)$")


class AssetError(Exception):
    """The lock file is wrong, a download failed, or a tarball is not what was locked."""


@dataclass(frozen=True)
class Package:
    """One locked npm package and the files taken from its tarball."""

    name: str
    version: str
    tarball: str
    integrity: str
    files: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def target_name(self, member: str) -> str:
        """The file name a tarball member is extracted to."""
        return member.rsplit("/", 1)[-1]


def load_lock(path: Path = DEFAULT_LOCK) -> list[Package]:
    """The packages of a lock file, validated; ``AssetError`` names what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssetError(f"{path}: the lock file does not exist") from None
    except json.JSONDecodeError as exc:
        raise AssetError(f"{path}: not valid JSON ({exc})") from None
    entries = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise AssetError(f'{path}: expected an object with a non-empty "packages" list')
    packages = [_package(path, index, entry) for index, entry in enumerate(entries)]
    names = [package.name for package in packages]
    if len(set(names)) != len(names):
        raise AssetError(f"{path}: a package is listed twice ({', '.join(sorted(names))})")
    return packages


def _package(path: Path, index: int, entry: object) -> Package:
    where = f"{path}: packages[{index}]"
    if not isinstance(entry, dict):
        raise AssetError(f"{where} is not an object")
    for key in ("name", "version", "tarball", "integrity"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise AssetError(f'{where} has no "{key}" string')
    name = entry["name"]
    where = f"{path}: {name}"
    if not _NAME.match(name):
        raise AssetError(f"{where}: the name must be a plain npm package name (no scope)")
    if not _INTEGRITY.match(entry["integrity"]):
        raise AssetError(
            f'{where}: "integrity" must be one sha512 SRI hash ("sha512-<base64>"), '
            "as `npm view <pkg>@<version> dist.integrity` prints it"
        )
    if not entry["tarball"].startswith(("https://", "file://")):
        raise AssetError(f'{where}: "tarball" must be an https:// (or file://) URL')
    files = entry.get("files")
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
        raise AssetError(f'{where}: "files" must be a non-empty list of paths in the tarball')
    package = Package(name, entry["version"], entry["tarball"], entry["integrity"], tuple(files))
    for member in files:
        if not member.startswith("package/") or ".." in member.split("/"):
            raise AssetError(f"{where}: {member!r} is not a path under package/")
    targets = [package.target_name(member) for member in files]
    if len(set(targets)) != len(targets):
        raise AssetError(f"{where}: two listed files share a base name")
    return package


def verify_integrity(data: bytes, integrity: str, *, label: str) -> None:
    """Raise ``AssetError`` unless ``data`` has the sha512 SRI hash ``integrity``."""
    match = _INTEGRITY.match(integrity)
    if not match:
        raise AssetError(f"{label}: {integrity!r} is not a sha512 SRI hash")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    if not hmac.compare_digest(actual, match.group(1)):
        raise AssetError(
            f"{label}: the downloaded tarball does not match the lock file, refusing to "
            f"extract it.\n  expected sha512-{match.group(1)}\n  received sha512-{actual}\n"
            "Someone may have tampered with the download; if the lock file itself is "
            "out of date, correct it from `npm view <pkg>@<version> dist.integrity`."
        )


def download(url: str, *, label: str) -> bytes:
    """The bytes at ``url`` (https or file), at most ``MAX_TARBALL_BYTES``."""
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
            data = response.read(MAX_TARBALL_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise AssetError(f"{label}: cannot download {url}: {exc}") from None
    if len(data) > MAX_TARBALL_BYTES:
        raise AssetError(f"{label}: {url} is larger than {MAX_TARBALL_BYTES} bytes")
    return data


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_current(package: Package, dest: Path = DEFAULT_DEST) -> bool:
    """Whether ``dest/<name>/`` holds exactly what the lock entry would extract."""
    folder = dest / package.name
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    expected = {package.target_name(member) for member in package.files}
    recorded = stamp.get("files") if isinstance(stamp, dict) else None
    if (
        stamp.get("integrity") != package.integrity
        or not isinstance(recorded, dict)
        or set(recorded) != expected
    ):
        return False
    return all(
        (folder / name).is_file() and _sha256(folder / name) == digest
        for name, digest in recorded.items()
    )


def _read_listed(package: Package, data: bytes) -> dict[str, bytes]:
    """The content of each listed member, by target name; only regular files qualify."""
    contents = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member_name in package.files:
                try:
                    member = archive.getmember(member_name)
                except KeyError:
                    raise AssetError(
                        f"{package.label}: the tarball has no {member_name}; "
                        "correct the lock file's list of files"
                    ) from None
                if not member.isfile():
                    raise AssetError(f"{package.label}: {member_name} is not a regular file")
                source = archive.extractfile(member)
                assert source is not None  # a regular file always has content
                contents[package.target_name(member_name)] = source.read()
    except tarfile.TarError as exc:
        raise AssetError(f"{package.label}: the tarball cannot be read: {exc}") from None
    return contents


def extract(package: Package, data: bytes, dest: Path = DEFAULT_DEST) -> Path:
    """Extract the listed files of a verified tarball into ``dest/<name>/``.

    Only regular files named in the lock entry are read, each by its exact member
    name, so nothing else in the tarball (links, absolute or ``..`` paths) can
    reach the disk. The folder is replaced whole, so files of an older version
    do not linger; on any error it is left as it was.
    """
    contents = _read_listed(package, data)
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{package.name}-", dir=dest))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the files from a separate web server
    try:
        for name, content in contents.items():
            (staging / name).write_bytes(content)
        stamp = {
            "name": package.name,
            "version": package.version,
            "integrity": package.integrity,
            "files": {
                name: hashlib.sha256(content).hexdigest() for name, content in contents.items()
            },
        }
        (staging / STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        folder = dest / package.name
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
        return folder
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch(
    packages: list[Package],
    dest: Path = DEFAULT_DEST,
    *,
    report: Callable[[str], object] = print,
) -> list[Package]:
    """Bring ``dest`` in line with the lock; return the packages that were downloaded.

    Raises ``AssetError`` at the first package that cannot be fetched or verified;
    a refused tarball leaves that package's folder as it was.
    """
    fetched = []
    for package in packages:
        if is_current(package, dest):
            report(f"{package.label}: up to date")
            continue
        data = download(package.tarball, label=package.label)
        verify_integrity(data, package.integrity, label=package.label)
        folder = extract(package, data, dest)
        report(f"{package.label}: verified and extracted {len(package.files)} file(s) to {folder}")
        fetched.append(package)
    return fetched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kam.assets",
        description="Fetch the front-end libraries of assets.lock.json, checking their hashes.",
    )
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK, help="the lock file")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="the vendor folder")
    args = parser.parse_args(argv)
    try:
        fetch(load_lock(args.lock), args.dest)
    except AssetError as exc:
        print(f"kam.assets: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
