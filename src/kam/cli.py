"""The one ``kam`` command.

``kam serve [ADDRESS]`` runs the web server; every other word is passed on to
Django's management commands (``kam migrate``, ``kam createsuperuser``...), so
there is one entry point for people and scripts alike.
"""

import os
import sys

ALIASES = {"serve": "runserver"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.config.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kam", *args])


if __name__ == "__main__":
    main()
