"""siaga report daily|monthly|shift --format pdf|csv|json --out FILE: the reports the head of office reads."""

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import ActionError, LazyText
from siaga.reports import compute, export, period


class Progress:
    """A one-line progress bar on standard error (only on a terminal, or when forced)."""

    STEPS = ("data", "charts", "pdf", "write")

    def __init__(self, stream: Any, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.started = time.monotonic()
        self.done = 0

    def __call__(self, step: str) -> None:
        self.done = min(len(self.STEPS), self.done + 1)
        if not self.enabled:
            return
        width = 24
        filled = round(width * self.done / len(self.STEPS))
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {self.done * 100 // len(self.STEPS):3d}% "
                          f"{step:<7} {elapsed:5.1f}s")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")


class Command(BaseCommand):
    help = "Write a shift, daily or monthly report as PDF, CSV or JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="kind", required=True)
        for name, help_text in (("daily", "one day, 00:00-24:00 WIB"), ("monthly", "one calendar month"),
                                ("shift", "one shift")):
            p = sub.add_parser(name, help=help_text)
            if name == "monthly":
                p.add_argument("--month", required=True, help="YYYY-MM")
            else:
                p.add_argument("--date", required=True, help="YYYY-MM-DD")
            if name == "shift":
                p.add_argument("--shift", required=True, help="shift code, e.g. pagi")
            p.add_argument("--format", choices=sorted(export.FORMATS), default="pdf")
            p.add_argument("--out", required=True, help="file to write ('-' for standard output, not for pdf)")
            p.add_argument("--allow-empty", action="store_true", help="write the report even without any data")
            p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["kind"] == "monthly":
                chosen = period.monthly(options["month"])
            elif options["kind"] == "daily":
                chosen = period.daily(period.parse_day(options["date"]))
            else:
                chosen = period.of_shift(period.parse_day(options["date"]), options["shift"])
        except ActionError as exc:
            raise CommandError(exc.localized()) from exc
        progress = Progress(sys.stderr, options["progress"] or sys.stderr.isatty())
        report = compute.build(chosen)
        progress("data")
        if not compute.has_data(report) and not options["allow_empty"]:
            progress.finish()
            raise CommandError(str(LazyText(
                pgettext_lazy("cli", "no calls or incidents in {label} ({slug}); nothing to report (use --allow-empty "
                                     "to write an empty report)"), label=chosen.label, slug=chosen.slug)))
        fmt = options["format"]
        if fmt == "pdf":
            if options["out"] == "-":
                raise CommandError(str(pgettext_lazy("cli", "a PDF needs --out FILE")))
            try:
                content = export.to_pdf(report, progress)
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
        else:
            progress("charts")
            progress("render")
            content = export.FORMATS[fmt][1](report)
        if options["out"] == "-":
            sys.stdout.buffer.write(content)
        else:
            out = Path(options["out"])
            tmp = out.with_name(out.name + ".part")
            tmp.write_bytes(content)
            tmp.replace(out)  # never a half-written report under the real name
        progress("write")
        progress.finish()
        if options["out"] != "-":
            self.stderr.write(str(LazyText(
                pgettext_lazy("cli", "{label}: {fmt} written to {value} ({len} bytes)"), label=chosen.label, fmt=fmt,
                value=options['out'], len=len(content))))
