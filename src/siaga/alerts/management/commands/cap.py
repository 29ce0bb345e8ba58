"""``siaga cap validate FILE`` and ``siaga cap from-bmkg FILE``.

validate: exit 0 for a valid CAP 1.2 message, 1 with every problem listed (one per line, with the element
it is about). from-bmkg: print the CAP alert this system would issue for the first quake in a BMKG /
InaTEWS / USGS file (exit 1 when the file cannot be read; a quake that shows nothing prints a note on
standard error and exits 0 with no output, as nothing would be issued).
"""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import LazyText
from siaga.formats import cap, feeds
from siaga.formats.errors import FormatError


class Command(BaseCommand):
    help = "CAP 1.2: validate messages, or show the alert issued for a BMKG record."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        validate = sub.add_parser("validate", help="check a CAP 1.2 message against the XSD and the spec's rules")
        validate.add_argument("files", nargs="+", metavar="FILE")
        validate.add_argument("--quiet", "-q", action="store_true", help="print problems only")
        build = sub.add_parser("from-bmkg", help="print the CAP alert for the first quake in a feed file")
        build.add_argument("file", metavar="FILE")
        build.add_argument("--exercise", action="store_true", help="as an exercise (status Exercise)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "validate":
            self.validate(options["files"], options["quiet"])
        else:
            self.from_bmkg(options["file"], options["exercise"])

    def _read(self, name: str) -> bytes:
        try:
            return sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as exc:
            self.stderr.write(str(LazyText(
                pgettext_lazy("cli", "siaga cap: {name}: cannot read ({value})"), name=name,
                value=exc.strerror or exc)))
            sys.exit(1)

    def validate(self, names: list[str], quiet: bool) -> None:
        failed = False
        for name in names:
            problems = cap.validate(self._read(name))
            if problems:
                failed = True
                plural = "s" if len(problems) > 1 else ""
                self.stdout.write(str(LazyText(
                    pgettext_lazy("cli", "{name}: NOT valid CAP 1.2 ({len} problem{plural})"), name=name,
                    len=len(problems), plural=plural)))
                for problem in problems:
                    self.stdout.write(f"  {problem}")
            elif not quiet:
                self.stdout.write(str(LazyText(pgettext_lazy("cli", "{name}: valid CAP 1.2"), name=name)))
        if failed:
            sys.exit(1)

    def from_bmkg(self, name: str, exercise: bool) -> None:
        from siaga.alerts.actions import preview

        try:
            readings = feeds.read(self._read(name))
        except FormatError as exc:
            field = f" (field {exc.field})" if exc.field else ""
            self.stderr.write(str(LazyText(
                pgettext_lazy("cli", "siaga cap: {name}{field_}: {message_}"), name=name, field_=field,
                message_=exc.message)))
            sys.exit(1)
        if not readings:
            self.stderr.write(str(LazyText(pgettext_lazy("cli", "siaga cap: {name}: no quake in the file"), name=name)))
            sys.exit(1)
        xml = preview(readings[0], exercise=exercise)
        if xml is None:
            self.stderr.write(str(LazyText(
                pgettext_lazy("cli", "siaga cap: {name}: this quake shows nothing in {value}: no alert is issued"),
                name=name, value=self._city())))
            return
        sys.stdout.buffer.write(xml)
        sys.stdout.flush()

    def _city(self) -> str:
        from django.conf import settings

        return str(settings.CITY_NAME)
