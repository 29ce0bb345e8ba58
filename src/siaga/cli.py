"""The ``siaga`` command: Django's management commands under friendlier names.

``siaga serve``, ``siaga load-reference``, ``siaga demo calls``, ``siaga aml parse TEXT``,
``siaga cti asterisk ...`` and every Django command (``siaga migrate``, ``siaga createsuperuser``...).
A configuration error (a production start without a secret key, DEBUG on a public host, a bad
``SIAGA_*`` value) is printed as one sentence and exits with status 2.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siaga.config.settings")
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018  (forces the settings to load now, to report errors cleanly)
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"siaga: configuration error: {exc}", file=sys.stderr)
        return 2
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
