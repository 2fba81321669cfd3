"""The front-end libraries: pinned by hash in assets.lock.json, fetched without Node.js."""

import base64
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from kam import assets

REPO_LOCK = Path(assets.__file__).resolve().parents[2] / "assets.lock.json"


def _tarball(path: Path, files: dict[str, bytes]) -> str:
    """Write a gzipped npm-style tarball; return its sha512 SRI integrity."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    path.write_bytes(buffer.getvalue())
    return "sha512-" + base64.b64encode(hashlib.sha512(buffer.getvalue()).digest()).decode()


@pytest.fixture
def tiny(tmp_path):
    """A locked package 'tiny' whose tarball lies in a temporary folder."""
    tarball = tmp_path / "tiny-1.0.0.tgz"
    integrity = _tarball(
        tarball,
        {
            "package/dist/tiny.min.js": b"window.tiny = 1;\n",
            "package/dist/tiny.js": b"/* the unminified file nobody asked for */\n",
            "package/LICENSE": b"0BSD\n",
        },
    )
    lock = tmp_path / "assets.lock.json"
    entry = {
        "name": "tiny",
        "version": "1.0.0",
        "tarball": tarball.as_uri(),
        "integrity": integrity,
        "files": ["package/dist/tiny.min.js", "package/LICENSE"],
    }
    lock.write_text(json.dumps({"packages": [entry]}))
    return {"lock": lock, "tarball": tarball, "dest": tmp_path / "vendor", "entry": entry}


def _fetch(tiny):
    return assets.fetch(assets.load_lock(tiny["lock"]), tiny["dest"], report=lambda line: None)


def test_only_the_listed_files_are_extracted_into_the_package_folder(tiny):
    _fetch(tiny)

    folder = tiny["dest"] / "tiny"
    assert (folder / "tiny.min.js").read_bytes() == b"window.tiny = 1;\n"
    assert (folder / "LICENSE").read_bytes() == b"0BSD\n"
    assert sorted(p.name for p in folder.iterdir()) == [".stamp.json", "LICENSE", "tiny.min.js"]


def test_a_tampered_tarball_is_refused_before_anything_is_extracted(tiny):
    _tarball(tiny["tarball"], {"package/dist/tiny.min.js": b"stealCookies();\n"})

    with pytest.raises(assets.AssetError, match="does not match the lock file") as refused:
        _fetch(tiny)

    assert "tiny@1.0.0" in str(refused.value)
    assert tiny["entry"]["integrity"] in str(refused.value)
    assert not (tiny["dest"] / "tiny").exists()


def test_a_tampered_tarball_leaves_the_verified_files_in_place(tiny):
    _fetch(tiny)
    (tiny["dest"] / "tiny" / "tiny.min.js").write_bytes(b"edited by hand\n")
    _tarball(tiny["tarball"], {"package/dist/tiny.min.js": b"stealCookies();\n"})

    with pytest.raises(assets.AssetError):
        _fetch(tiny)

    assert (tiny["dest"] / "tiny" / "LICENSE").exists()
    assert b"stealCookies" not in (tiny["dest"] / "tiny" / "tiny.min.js").read_bytes()


def test_the_command_line_reports_a_refusal_and_exits_non_zero(tiny, capsys):
    _tarball(tiny["tarball"], {"package/dist/tiny.min.js": b"stealCookies();\n"})

    status = assets.main(["--lock", str(tiny["lock"]), "--dest", str(tiny["dest"])])

    assert status == 1
    assert "refusing to extract" in capsys.readouterr().err


def test_a_second_run_downloads_nothing(tiny):
    assert [p.name for p in _fetch(tiny)] == ["tiny"]
    tiny["tarball"].unlink()  # a second download would now fail

    assert _fetch(tiny) == []


def test_an_extracted_file_changed_on_disk_is_fetched_again(tiny):
    _fetch(tiny)
    (tiny["dest"] / "tiny" / "tiny.min.js").write_bytes(b"edited by hand\n")

    assert [p.name for p in _fetch(tiny)] == ["tiny"]
    assert (tiny["dest"] / "tiny" / "tiny.min.js").read_bytes() == b"window.tiny = 1;\n"


def test_a_new_version_in_the_lock_replaces_the_old_files(tiny, tmp_path):
    _fetch(tiny)
    tarball = tmp_path / "tiny-2.0.0.tgz"
    integrity = _tarball(tarball, {"package/tiny.mjs": b"export default 2;\n"})
    entry = {**tiny["entry"], "version": "2.0.0", "tarball": tarball.as_uri()}
    entry.update(integrity=integrity, files=["package/tiny.mjs"])
    tiny["lock"].write_text(json.dumps({"packages": [entry]}))

    assert [p.version for p in _fetch(tiny)] == ["2.0.0"]
    assert sorted(p.name for p in (tiny["dest"] / "tiny").iterdir()) == [".stamp.json", "tiny.mjs"]


def test_a_listed_file_missing_from_the_tarball_is_named(tiny):
    tiny["entry"]["files"] = ["package/dist/tiny.esm.js"]
    tiny["lock"].write_text(json.dumps({"packages": [tiny["entry"]]}))

    with pytest.raises(assets.AssetError, match=re.escape("no package/dist/tiny.esm.js")):
        _fetch(tiny)


def test_a_listed_link_is_not_followed(tiny):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        link = tarfile.TarInfo("package/dist/tiny.min.js")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    tiny["tarball"].write_bytes(buffer.getvalue())
    digest = base64.b64encode(hashlib.sha512(buffer.getvalue()).digest()).decode()
    tiny["entry"].update(integrity=f"sha512-{digest}", files=["package/dist/tiny.min.js"])
    tiny["lock"].write_text(json.dumps({"packages": [tiny["entry"]]}))

    with pytest.raises(assets.AssetError, match="not a regular file"):
        _fetch(tiny)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"integrity": "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk="}, "sha512"),
        ({"integrity": "sha512-tooShort=="}, "sha512"),
        ({"tarball": "http://registry.example/tiny.tgz"}, "https://"),
        ({"files": ["../../etc/passwd"]}, "not a path under package/"),
        ({"files": ["package/a/x.js", "package/b/x.js"]}, "share a base name"),
        ({"name": "../tiny"}, "plain npm package name"),
        ({"files": []}, '"files"'),
    ],
)
def test_a_malformed_lock_entry_is_refused_with_its_reason(tiny, change, complaint):
    tiny["lock"].write_text(json.dumps({"packages": [{**tiny["entry"], **change}]}))

    with pytest.raises(assets.AssetError, match=re.escape(complaint)):
        assets.load_lock(tiny["lock"])


def test_the_project_lock_pins_every_package_by_version_and_sha512():
    packages = assets.load_lock(REPO_LOCK)

    assert {p.name for p in packages} >= {"htmx.org", "echarts"}
    for package in packages:
        assert re.fullmatch(r"\d+\.\d+\.\d+", package.version), package.label
        assert package.tarball.startswith("https://"), package.label
        assert package.tarball.endswith(f"/{package.name}-{package.version}.tgz"), package.label
        digest = base64.b64decode(package.integrity.removeprefix("sha512-"))
        assert len(digest) == 64, package.label
        assert any(f.endswith("LICENSE") for f in package.files), package.label


def test_htmx_is_a_2x_release_and_echarts_a_stable_one():
    versions = {p.name: p.version for p in assets.load_lock(REPO_LOCK)}

    assert versions["htmx.org"].startswith("2.")
    assert int(versions["echarts"].split(".")[0]) >= 5


def test_the_layout_loads_htmx_from_a_file_the_lock_extracts():
    htmx = next(p for p in assets.load_lock(REPO_LOCK) if p.name == "htmx.org")
    layout = (Path(assets.__file__).parent / "web/templates/kam/base.html").read_text()

    script = re.search(r"static 'vendor/htmx\.org/([^']+)'", layout)
    assert script is not None
    assert script.group(1) in {htmx.target_name(f) for f in htmx.files}


def test_the_vendor_folder_is_never_committed():
    gitignore = (REPO_LOCK.parent / ".gitignore").read_text().splitlines()

    assert "/src/kam/web/static/vendor/" in gitignore


def test_kam_assets_runs_the_same_fetch_as_a_management_command(tiny):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("assets", lock=tiny["lock"], dest=tiny["dest"], stdout=out)

    assert "tiny@1.0.0: verified and extracted" in out.getvalue()
    assert (tiny["dest"] / "tiny" / "tiny.min.js").exists()


def test_kam_assets_fails_as_a_command_error_on_a_tampered_tarball(tiny):
    from django.core.management import CommandError, call_command

    _tarball(tiny["tarball"], {"package/dist/tiny.min.js": b"stealCookies();\n"})

    with pytest.raises(CommandError, match="does not match the lock file"):
        call_command("assets", lock=tiny["lock"], dest=tiny["dest"], stdout=io.StringIO())
