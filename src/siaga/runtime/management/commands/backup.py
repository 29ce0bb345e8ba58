"""siaga backup: a dump of the database with the audit chain's head beside it (siaga.runtime.backup)."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import LazyText
from siaga.runtime.backup import BackupError, backup


class Command(BaseCommand):
    help = ("Back up the database (pg_dump, or SQLite's online backup) into SIAGA_BACKUP_DIR, with a manifest "
            "holding the dump's SHA-256 and the audit chain's head; safe while the nodes run.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", type=Path, default=None, help="the folder (default: SIAGA_BACKUP_DIR)")
        parser.add_argument("--json", action="store_true", help="print the manifest as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            made = backup(options["to"])
        except (BackupError, OSError) as exc:
            raise CommandError(str(LazyText(pgettext_lazy("cli", "backup failed: {error}"), error=exc))) from exc
        if options["json"]:
            self.stdout.write(json.dumps({**made.data, "path": str(made.dump), "manifest": str(made.manifest)}))
            return
        self.stdout.write(self.style.SUCCESS(str(LazyText(
            pgettext_lazy("cli", "backup written: {path} ({size} bytes); audit head {head}"),
            path=made.dump, size=made.data["bytes"], head=made.data["audit_head"]))))
        self.stdout.write(str(LazyText(pgettext_lazy("cli", "keep it with its manifest: {manifest}"),
                                       manifest=made.manifest)))
