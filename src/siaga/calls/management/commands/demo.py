"""siaga demo calls --minutes N: a realistic stream of 112 calls through the real CTI endpoint."""

import asyncio
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from siaga.calls import demo
from siaga.core.demo import credentials_path


class Command(BaseCommand):
    help = "Demo data. `calls`: simulated 112 traffic (run `siaga load-demo` first)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        roster = sub.add_parser("roster", help="demo staff (4 teams of 3 operators, 4 supervisors) and their roster")
        roster.add_argument("--month", default=None, help="YYYY-MM (default: this month and the next)")
        calls = sub.add_parser("calls", help="simulate calls against a running server")
        calls.add_argument("--minutes", type=float, default=30.0,
                           help="simulated minutes of traffic (0 = keep going)")
        calls.add_argument("--days", type=float, default=None, help="the same in days (e.g. --backfill --days 30)")
        calls.add_argument("--concurrency", type=int, default=8, help="calls played side by side in a backfill")
        calls.add_argument("--url", default="http://127.0.0.1:8112")
        calls.add_argument("--speed", type=float, default=1.0, help="time compression (60 = a minute per second)")
        calls.add_argument("--backfill", action="store_true",
                           help="generate the last --minutes of traffic at once, with past times")
        calls.add_argument("--fill-gap", action="store_true",
                           help="with --backfill: only the time since the newest call (for restarts)")
        calls.add_argument("--rate", type=float, default=20.0, help="average calls per hour")
        calls.add_argument("--seed", type=int, default=None, help="random seed for a repeatable run")
        calls.add_argument("--credentials", default=None, help="demo credentials file (default var/demo/...)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "roster":
            from siaga.shifts.demo import demo_roster

            for month, added in demo_roster(options["month"]):
                self.stdout.write(f"demo roster {month}: {added} entries added")
            return
        if options["days"] is not None:
            options["minutes"] = options["days"] * 1440
        path = options["credentials"] or str(credentials_path())
        try:
            credentials = demo.load_credentials(path)
        except OSError as exc:
            raise CommandError(f"cannot read {path} ({exc}); run `siaga load-demo` first") from exc
        if options["speed"] <= 0:
            raise CommandError("--speed must be positive")
        total = asyncio.run(demo.run(options["url"], credentials, options["minutes"], options["speed"],
                                     options["backfill"], options["seed"], options["rate"],
                                     lambda line: self.stdout.write(line), options["fill_gap"],
                                     options["concurrency"]))
        self.stdout.write(self.style.SUCCESS(f"{total} simulated calls sent to {options['url']}"))
