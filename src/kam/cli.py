"""The one ``kam`` command.

``kam serve [ADDRESS]`` runs the web server; KAM's own commands (``import``,
``export``, ``forecast``, ``backup`` ...) and every Django management command
(``kam migrate``, ``kam check``, ``kam changepassword`` ...) are reached through
the same word, so there is one entry point for people and scripts alike.

``kam``, ``kam -h``, ``kam --help`` and ``kam help`` list KAM's commands
without starting Django (no database, no settings needed); ``kam help COMMAND``
and ``kam COMMAND --help`` print one command's options.

Exit codes scripts can rely on (docs/cli.md): 0 done, 1 error (nothing or not
everything was done; the message says why), 2 the command line is wrong (an
unknown command or option, a missing argument), 3 partly done (``kam import``:
the valid rows were written, the others reported).
"""

import os
import sys
import time

OK, ERROR, USAGE, PARTIAL = 0, 1, 2, 3

# KAM's own commands, in the order people meet them, with a line each.
COMMANDS = (
    ("serve", "run KAM as deployed (granian, static files, task worker): kam serve [ADDRESS:PORT]"),
    ("demo", "load the demo data set into an empty database and print the logins"),
    ("generate", "generate a deterministic synthetic data set at scale (benchmarks)"),
    ("import", "import accounts, contacts, opportunities ... from a CSV or XLSX file"),
    ("export", "export what a user may see as CSV or XLSX, with the list filters"),
    ("forecast", "print the forecast of a period part by part (--json for machines)"),
    ("refresh", "recompute the stored figures that read today's date (run daily)"),
    ("recompute", "recompute every stored figure from the records"),
    ("token", "create or revoke a personal API token: kam token create|revoke USERNAME"),
    ("backup", "back up the database (SQLite online backup, or pg_dump)"),
    ("restore", "restore the database from a backup (asks for --yes)"),
    ("createuser", "create a user in a team, asking for the password"),
    ("assets", "fetch the pinned front-end assets, checking their integrity"),
)

HELP = """Usage: kam COMMAND [OPTIONS]

KAM's commands:
{commands}

Every Django management command passes through too (kam migrate, kam check,
kam shell, kam changepassword USERNAME ...): `kam help --commands` lists them.
`kam COMMAND --help` (or `kam help COMMAND`) shows a command's options.

Exit codes: 0 done, 1 error, 2 wrong command line, 3 partly done (import: some
rows failed). Settings come from the environment (KAM_DATA_DIR, DATABASE_URL,
KAM_DEBUG ...): see README.md.
"""


def help_text() -> str:
    width = max(len(name) for name, _line in COMMANDS)
    lines = "\n".join(f"  {name.ljust(width)}  {line}" for name, line in COMMANDS)
    return HELP.format(commands=lines)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args in (["-h"], ["--help"], ["help"]):
        sys.stdout.write(help_text())
        sys.exit(OK)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.config.settings")
    if not args[0].startswith("-") and args[0] != "help":
        _exit_if_unknown(args[0])
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["kam", *args])
    except BrokenPipeError:
        # The reader went away (`kam export ... | head`): stop quietly, as cut or grep do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(ERROR)


def _exit_if_unknown(name: str) -> None:
    """An unknown command is a wrong command line: exit 2, not Django's 1."""
    import django
    from django.core.management import get_commands

    django.setup()
    if name not in get_commands():
        sys.stderr.write(f"kam: unknown command {name!r}. Type 'kam --help' for the commands.\n")
        sys.exit(USAGE)


class ProgressLine:
    """A one-line progress report on stderr, redrawn in place, only when stderr is a
    terminal (scripts and logs get nothing). Call it with the count done; ``close()``
    ends the line.

    ``ProgressLine("rows", total=5000)(1200)`` shows ``rows: 1200/5000 (24%)``.
    """

    def __init__(self, label: str, *, total: int | None = None, stream=None, every: float = 0.2):
        self.stream = sys.stderr if stream is None else stream
        self.label = label
        self.total = total
        self.every = every
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0
        self._shown = False

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < self.every and done != self.total:
            return
        self._last = now
        text = f"{self.label}: {done}"
        if self.total:
            text += f"/{self.total} ({100 * done // self.total}%)"
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


if __name__ == "__main__":
    main()
