"""siaga shifts check|define|export|import|attribute: the roster and shift definitions from the terminal."""

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import ActionError, LazyText
from siaga.core.roles import Principal
from siaga.shifts import actions, queries


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(str(LazyText(
            pgettext_lazy("cli", "{value!r} is not a date (YYYY-MM-DD)"), value=value))) from None


class Command(BaseCommand):
    help = "Shifts: coverage check, definitions, roster export/import, attribution of old records."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        check = sub.add_parser("check", help="understaffed shifts and people on more than two shifts in a row")
        check.add_argument("--from", dest="first", required=True)
        check.add_argument("--to", dest="last", required=True)
        check.add_argument("--json", action="store_true")
        define = sub.add_parser("define", help='e.g. "Pagi=07:00-15:00,Siang=15:00-23:00,Malam=23:00-07:00"')
        define.add_argument("spec")
        define.add_argument("--min-operators", type=int)
        define.add_argument("--min-supervisors", type=int)
        export = sub.add_parser("export", help="a month's roster as CSV")
        export.add_argument("--month", required=True)
        export.add_argument("--out", default="-")
        imp = sub.add_parser("import", help="replace a month's roster with a CSV (all or nothing)")
        imp.add_argument("--month", required=True)
        imp.add_argument("file")
        sub.add_parser("attribute", help="give old calls and incidents their shift")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Principal.system("system:cli")
        try:
            getattr(self, "_" + options["verb"])(actor, options)
        except ActionError as exc:
            raise CommandError(exc.localized()) from exc

    def _check(self, actor: Principal, options: dict[str, Any]) -> None:
        first, last = _date(options["first"]), _date(options["last"])
        if last < first:
            raise CommandError(str(LazyText(
                pgettext_lazy("cli", "--to {last} is before --from {first}"), last=last, first=first)))
        result = queries.coverage(first, last)
        if options["json"]:
            self.stdout.write(json.dumps({"understaffed": result.understaffed, "too_long": result.too_long}))
        else:
            for row in result.understaffed:
                self.stdout.write(str(LazyText(
                    pgettext_lazy("cli", "UNDERSTAFFED {value} {value2}: {value3}/{value4} operators, "
                                         "{value5}/{value6} supervisors"), value=row['date'], value2=row['shift_name'],
                                         value3=row['operators'], value4=row['min_operators'],
                                         value5=row['supervisors'], value6=row['min_supervisors'])))
            for row in result.too_long:
                self.stdout.write(str(LazyText(
                    pgettext_lazy("cli", "TOO LONG {value}: {value2} shifts in a row, {value3} .. {value4}"),
                    value=row['user'], value2=row['shifts'], value3=row['from'], value4=row['to'])))
            if result.ok:
                self.stdout.write(self.style.SUCCESS(str(LazyText(
                    pgettext_lazy("cli", "the roster from {first} to {last} is complete"), first=first, last=last))))
        if not result.ok:
            sys.exit(1)

    def _define(self, actor: Principal, options: dict[str, Any]) -> None:
        windows = actions.parse_windows(options["spec"])
        kept = actions.do_define_shifts(actor, windows, options["min_operators"], options["min_supervisors"])
        self.stdout.write(self.style.SUCCESS("shifts: " + ", ".join(str(d) for d in kept)))

    def _export(self, actor: Principal, options: dict[str, Any]) -> None:
        text = actions.export_roster(options["month"])
        if options["out"] == "-":
            self.stdout.write(text, ending="")
        else:
            Path(options["out"]).write_text(text, encoding="utf-8")

    def _import(self, actor: Principal, options: dict[str, Any]) -> None:
        try:
            text = Path(options["file"]).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(str(LazyText(
                pgettext_lazy("cli", "cannot read {value}: {exc}"), value=options['file'], exc=exc))) from exc
        result = actions.do_import_roster(actor, options["month"], text)
        self.stdout.write(self.style.SUCCESS(str(LazyText(
            pgettext_lazy("cli", "roster {value}: {added} added, {removed} removed, {kept} kept (already worked)"),
            value=options['month'], added=result.added, removed=result.removed, kept=result.kept))))

    def _attribute(self, actor: Principal, options: dict[str, Any]) -> None:
        from siaga.calls.models import Call
        from siaga.incidents.models import Incident

        done = 0
        for call in Call.objects.filter(shift__isnull=True).only("id", "offered_at", "first_seen_at"):
            Call.objects.filter(pk=call.pk).update(shift_id=queries.shift_id_at(call.offered_at or call.first_seen_at))
            done += 1
        for incident in Incident.objects.filter(shift__isnull=True).only("id", "created_at"):
            Incident.objects.filter(pk=incident.pk).update(shift_id=queries.shift_id_at(incident.created_at))
            done += 1
        self.stdout.write(str(LazyText(pgettext_lazy("cli", "{done} records attributed to their shift"), done=done)))
