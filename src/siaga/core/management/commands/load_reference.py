"""siaga load-reference: Kota Cilegon's kecamatan, kelurahan, agencies, categories and role groups."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from siaga.core.reference import ReferenceDataError, load_all


class Command(BaseCommand):
    help = "Load (idempotently) the city's regions, agencies, incident categories and role groups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true",
                            help="restore agencies and categories to the bundled defaults (overwrites admin edits)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load_all(reset=options["reset"])
        except ReferenceDataError as exc:
            raise CommandError(f"reference data is inconsistent: {exc}") from exc
        created = ", ".join(f"{k} {v}" for k, v in sorted(report.created.items())) or "nothing"
        self.stdout.write(self.style.SUCCESS(f"reference data loaded; created: {created}"))
