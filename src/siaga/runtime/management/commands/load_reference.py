"""siaga load-reference: Kota Cilegon's kecamatan, kelurahan, agencies, categories and role groups."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import LazyText
from siaga.runtime.reference import ReferenceDataError, load_all


class Command(BaseCommand):
    help = "Load (idempotently) the city's regions, agencies, incident categories and role groups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true",
                            help="restore agencies and categories to the bundled defaults (overwrites admin edits)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load_all(reset=options["reset"])
        except ReferenceDataError as exc:
            raise CommandError(str(LazyText(
                pgettext_lazy("cli", "reference data is inconsistent: {exc}"), exc=exc))) from exc
        created = (", ".join(f"{k} {v}" for k, v in sorted(report.created.items()))
                   or str(pgettext_lazy("cli", "nothing")))
        self.stdout.write(self.style.SUCCESS(str(LazyText(
            pgettext_lazy("cli", "reference data loaded; created: {created}"), created=created))))
