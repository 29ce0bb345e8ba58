"""siaga restore FILE --yes: the database replaced by a backup's, then the audit chain verified against the
head kept in the backup's manifest. Stop every node first."""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import LazyText
from siaga.runtime.backup import BackupError, read_manifest, restore


class Command(BaseCommand):
    help = ("Restore a backup made by `siaga backup` into the configured database (everything in it is "
            "replaced), then verify the audit chain against the head kept in the backup's manifest.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the .dump file or its .json manifest")
        parser.add_argument("--yes", action="store_true",
                            help="replace what the database holds now (required: a restore is not undone)")

    def handle(self, *args: Any, **options: Any) -> None:
        from siaga.core.auditchain import verify
        from siaga.core.management.commands.audit import write_report

        try:
            found = read_manifest(options["file"])  # checked before anything is touched, --yes or not
            if not options["yes"]:
                raise CommandError(str(LazyText(pgettext_lazy(
                    "cli", "a restore replaces everything in the database with the backup of {created}: stop "
                           "every node, then run again with --yes"), created=found.data["created_at"])))
            restore(options["file"])
        except (BackupError, OSError) as exc:
            raise CommandError(str(LazyText(pgettext_lazy("cli", "restore failed: {error}"), error=exc))) from exc
        self.stdout.write(str(LazyText(pgettext_lazy("cli", "restored {path} (made {created})"),
                                       path=found.dump, created=found.data["created_at"])))
        report = verify(expect=found.data["audit_head"] if found.data["audit_head"] != "0:" else None)
        write_report(self.stdout, report)
        self.stdout.write(str(pgettext_lazy(
            "cli", "next: `siaga migrate` (if this version is newer than the backup's), then start the nodes")))
        if not report.ok:
            sys.exit(1)
