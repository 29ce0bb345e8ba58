"""siaga demo calls --minutes N: a realistic stream of 112 calls through the real CTI endpoint.
siaga demo tsunami: the worst-case drill from the BMKG feed to set-top boxes (siaga.runtime.drill)."""

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.calls import demo
from siaga.core.errors import LazyText
from siaga.runtime.demo import credentials_path


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
        tsunami = sub.add_parser("tsunami", help="the tsunami drill: BMKG replay -> platform -> EWS carousel -> STBs")
        tsunami.add_argument("--udp", default="239.255.112.1:5004", help="where the carousel sends (multicast ok)")
        tsunami.add_argument("--interval", type=float, default=1.0, help="poll interval in seconds")
        tsunami.add_argument("--http-port", type=int, default=8121,
                             help="the first emulator's screen port (the others follow; 0: any free port)")
        tsunami.add_argument("--pause", type=float, default=5.0, help="seconds before the first quake")
        tsunami.add_argument("--pace", type=float, default=None,
                             help="seconds each state stays on the screens before the next step "
                                  "(default 15: time to look at every box; 1 for a quick run)")
        tsunami.add_argument("--keep", action="store_true",
                             help="keep the emulators running at the end, until Enter (or Ctrl-C) is pressed")
        tsunami.add_argument("--here", action="store_true",
                             help="use the configured database (default: a new SQLite database of its own)")

    def _tsunami_apart(self, options: dict[str, Any]) -> None:
        """The drill in a database of its own (created, migrated, loaded with Cilegon), so that it starts
        from nothing on air and leaves the real one untouched."""
        folder = Path(tempfile.mkdtemp(prefix="siaga-drill-"))
        env = dict(os.environ, SIAGA_DATABASE_URL=f"sqlite:///{folder}/drill.sqlite3", SIAGA_VAR_DIR=str(folder),
                   SIAGA_HAZARD_POLLING="0")
        env.pop("SIAGA_REDIS_URL", None)
        self.stdout.write(str(LazyText(
            pgettext_lazy("cli", "database of the drill: {folder}/drill.sqlite3 (migrate, load-reference) ..."),
            folder=folder)))
        self.stdout.flush()
        for step in (["migrate", "--noinput"], ["load-reference"]):
            done = subprocess.run([sys.executable, "-m", "siaga.cli", *step], env=env, capture_output=True,  # noqa: S603
                                  text=True, check=False)
            if done.returncode:
                raise CommandError(str(LazyText(
                    pgettext_lazy("cli", "the drill database could not be prepared ({names}): {value}"),
                    names=' '.join(step), value=done.stderr.strip()[-500:])))
        args = ["demo", "tsunami", "--here", "--udp", options["udp"], "--interval", str(options["interval"]),
                "--http-port", str(options["http_port"]), "--pause", str(options["pause"])]
        if options["pace"] is not None:
            args += ["--pace", str(options["pace"])]
        if options["keep"]:
            args.append("--keep")
        try:
            code = subprocess.run([sys.executable, "-m", "siaga.cli", *args], env=env, check=False).returncode  # noqa: S603
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if code:
            raise CommandError(str(pgettext_lazy("cli", "the drill did not go as it should (see above)")))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "tsunami" and not options["here"]:
            self._tsunami_apart(options)
            return
        if options["verb"] == "tsunami":
            from siaga.runtime import drill

            try:
                ok = drill.run(lambda line: (self.stdout.write(line), self.stdout.flush()), udp=options["udp"],
                               interval=options["interval"], http_port=options["http_port"],
                               pause=options["pause"], keep=options["keep"],
                               pace=drill.DEFAULT_PACE if options["pace"] is None else options["pace"])
            except (RuntimeError, OSError) as exc:
                raise CommandError(str(LazyText(
                    pgettext_lazy("cli", "the drill cannot start: {exc}"), exc=exc))) from None
            if not ok:
                raise CommandError(str(pgettext_lazy("cli", "the drill did not go as it should (see above)")))
            return
        if options["verb"] == "roster":
            from siaga.shifts.demo import demo_roster

            for month, added in demo_roster(options["month"]):
                self.stdout.write(str(LazyText(
                    pgettext_lazy("cli", "demo roster {month}: {added} entries added"), month=month, added=added)))
            return
        if options["days"] is not None:
            options["minutes"] = options["days"] * 1440
        path = options["credentials"] or str(credentials_path())
        try:
            credentials = demo.load_credentials(path)
        except OSError as exc:
            raise CommandError(str(LazyText(
                pgettext_lazy("cli", "cannot read {path} ({exc}); run `siaga load-demo` first"), path=path,
                exc=exc))) from exc
        if options["speed"] <= 0:
            raise CommandError(str(pgettext_lazy("cli", "--speed must be positive")))
        total = asyncio.run(demo.run(options["url"], credentials, options["minutes"], options["speed"],
                                     options["backfill"], options["seed"], options["rate"],
                                     lambda line: self.stdout.write(line), options["fill_gap"],
                                     options["concurrency"]))
        self.stdout.write(self.style.SUCCESS(str(LazyText(
            pgettext_lazy("cli", "{total} simulated calls sent to {value}"), total=total, value=options['url']))))
