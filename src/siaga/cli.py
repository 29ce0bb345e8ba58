"""The ``siaga`` command: Django's management commands under friendlier names.

``siaga serve``, ``siaga load-reference``, ``siaga demo calls``, ``siaga aml parse TEXT``,
``siaga cti asterisk ...`` and every Django command (``siaga migrate``, ``siaga createsuperuser``...).
A configuration error (a production start without a secret key, DEBUG on a public host, a bad
``SIAGA_*`` value) is printed as one sentence and exits with status 2, and so is a database that is not
set up yet (no tables: run ``siaga migrate``) or cannot be reached. ``--traceback`` shows the traceback.

What the commands say is in Bahasa Indonesia; ``--lang en`` (anywhere on the line) or ``SIAGA_LANG=en``
gives English. Machine output (JSON, CSV, tokens, CAP XML) is the same in both.
"""

from __future__ import annotations

import os
import re
import sys

LANGUAGES = ("id", "en")


def language_option(args: list[str]) -> tuple[list[str], str]:
    """``args`` without ``--lang X`` / ``--lang=X``, and the language (``SIAGA_LANG``, else ``id``)."""
    language = os.environ.get("SIAGA_LANG", "id") or "id"
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--lang" and index + 1 < len(args):
            language, index = args[index + 1], index + 2
            continue
        if arg.startswith("--lang="):
            language = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        index += 1
    return rest, language.strip().lower()


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siaga.config.settings")
    args, language = language_option(list(sys.argv if argv is None else argv))
    if language not in LANGUAGES:
        print(f"siaga: --lang must be one of {', '.join(LANGUAGES)} (Bahasa Indonesia, English), not {language!r}",
              file=sys.stderr)
        return 2
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018  (forces the settings to load now, to report errors cleanly)
        import django

        django.setup()
        from django.utils import translation

        translation.activate(language)
    except ImproperlyConfigured as exc:
        print(f"siaga: configuration error: {exc}", file=sys.stderr)
        return 2
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    try:
        execute_from_command_line(args)
    except DatabaseError as exc:
        if "--traceback" in args:
            raise
        print(f"siaga: {database_problem(exc)}", file=sys.stderr)
        return 2
    return 0


def database_problem(exc: Exception) -> str:
    """One sentence for a database error that reached the command line."""
    from django.conf import settings

    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    where = settings.DATABASES["default"].get("NAME", "")
    missing = re.search(r'no such table: (\S+)|relation "([^"]+)" does not exist', first)
    if missing:
        table = missing.group(1) or missing.group(2)
        return (f"the database {where} is not set up (it has no table {table}): run `siaga migrate` and "
                f"`siaga load-reference` first (`make run` does both)")
    return f"database error ({where}): {first}; check SIAGA_DATABASE_URL and that the database is running"


if __name__ == "__main__":
    sys.exit(main())
