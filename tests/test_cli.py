"""The ``kam`` command: its help, the pass-through to Django, and its exit codes."""

import io
import os
import subprocess
import sys

import pytest

from kam import cli

KAM_COMMANDS = [name for name, _line in cli.COMMANDS]


def _main(capsys, *args):
    with pytest.raises(SystemExit) as exited:
        cli.main(list(args))
    return exited.value.code, capsys.readouterr()


@pytest.mark.parametrize("args", [[], ["--help"], ["-h"], ["help"]])
def test_help_lists_kams_commands_first_then_the_django_pass_through(capsys, args):
    code, out = _main(capsys, *args)

    assert code == 0
    listed = [line.split()[0] for line in out.out.splitlines() if line.startswith("  ")]
    assert listed == KAM_COMMANDS
    assert out.out.index("createuser") < out.out.index("Django management command")
    assert "0 done, 1 error, 2 wrong command line, 3 partly done" in out.out


def test_help_needs_no_settings_or_database(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAM_", "DJANGO_"))}

    done = subprocess.run(
        [sys.executable, "-m", "kam.cli", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0
    assert "export" in done.stdout
    assert not (tmp_path / "data").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("command", KAM_COMMANDS)
def test_each_command_has_its_own_help(capsys, command):
    code, out = _main(capsys, command, "--help")

    assert code == 0
    assert out.out.startswith("usage: kam ")


@pytest.mark.django_db
def test_an_unknown_command_is_a_usage_error(capsys):
    code, out = _main(capsys, "exprot")

    assert code == 2
    assert "unknown command 'exprot'" in out.err


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [["export"], ["export", "invoices", "--user", "rep"], ["forecast", "--json", "--bogus"]],
)
def test_a_malformed_command_line_exits_with_2(capsys, args):
    code, _out = _main(capsys, *args)

    assert code == 2


@pytest.mark.django_db
def test_a_refusal_exits_with_1_and_says_why(capsys):
    code, out = _main(capsys, "export", "accounts", "--user", "nobody")

    assert code == 1
    assert "no such active user" in out.err


@pytest.mark.django_db
def test_django_commands_pass_through(capsys):
    cli.main(["help", "--commands"])

    listed = capsys.readouterr().out.split()
    assert {"migrate", "changepassword", "export", "backup"} <= set(listed)


def test_the_progress_line_stays_silent_off_a_terminal():
    stream = io.StringIO()
    progress = cli.ProgressLine("rows", total=10, stream=stream)

    progress(5)
    progress.close()

    assert stream.getvalue() == ""


def test_the_progress_line_redraws_in_place_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = cli.ProgressLine("rows", total=10, stream=stream, every=0)

    progress(5)
    progress(10)
    progress.close()

    assert stream.getvalue() == "\rrows: 5/10 (50%)\x1b[K\rrows: 10/10 (100%)\x1b[K\n"
