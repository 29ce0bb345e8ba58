"""``siaga stb --udp HOST:PORT --postcode 42431 [--http HOST:PORT] [--profile seed|mstar|mtk]``:
a set-top box that receives the EWS carousel over UDP (``--tmdw-form mtk`` for a seed box under an MTK-form
head-end). Its screen is a web page at --http; without
--http (or with --terminal too) every change of state is printed as a line."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext_lazy, pgettext_lazy

from siaga.core.errors import LazyText
from siaga.ews.layout import TMDW_FORMS
from siaga.ews.receiver import PROFILES, State

JAKARTA = ZoneInfo("Asia/Jakarta")


class Command(BaseCommand):
    help = "Set-top-box emulator for DVB-T2 EWS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--udp", required=True, help="HOST:PORT to receive the TS on (multicast groups too)")
        parser.add_argument("--postcode", required=True, help="this box's 5-digit postcode")
        parser.add_argument("--http", default=None, help="HOST:PORT of the screen page and the /state, /key, "
                                                         "/mains API (loopback unless you mean otherwise)")
        parser.add_argument("--profile", default="seed", choices=sorted(PROFILES))
        parser.add_argument("--tmdw-form", choices=TMDW_FORMS, default=None,
                            help="how the box reads the TMDW (default: its profile's; seed: mstar)")
        parser.add_argument("--terminal", action="store_true", help="print state changes (default without --http)")
        parser.add_argument("--name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        from siaga.broadcast.stb import OVERLAYS, POWER, SetTopBox, StbHttpServer, change_text, describe

        postcode = options["postcode"]
        if len(postcode) != 5 or not postcode.isdigit():
            raise CommandError(str(LazyText(
                pgettext_lazy("cli", "--postcode must be 5 digits, not {postcode!r}"), postcode=postcode)))
        terminal = options["terminal"] or not options["http"]

        def printed(state: State, what: str) -> None:
            now = datetime.now(UTC).astimezone(JAKARTA)
            self.stdout.write(str(LazyText(
                pgettext_lazy("cli", "{now:%H:%M:%S} WIB [{postcode}] {power:5} {overlay:13} {level:7} {sound}{what}"),
                now=now, postcode=postcode, power=str(POWER.get(state.power, state.power)),
                overlay=str(OVERLAYS.get(state.overlay, state.overlay)), level=state.level or "-",
                sound=str(gettext_lazy("SUARA ")) if state.sound else "", what=change_text(what))))
            self.stdout.flush()

        try:
            box = SetTopBox(postcode, options["profile"], udp=options["udp"], name=options["name"],
                            tmdw_form=options["tmdw_form"], on_change=printed if terminal else None)
            server = StbHttpServer(box, options["http"]) if options["http"] else None
        except (ValueError, OSError) as exc:
            raise CommandError(str(LazyText(
                pgettext_lazy("cli", "cannot start the emulator: {exc}"), exc=exc))) from None
        box.start()
        if server is not None:
            server.start()
        assert box.tuner is not None
        self.stdout.write(f"STB {postcode} ({options['profile']}: {describe(options['profile'])}) tuned to "
                          f"{box.tuner.address}" + (f"; screen at {server.url}/" if server else ""))
        self.stdout.flush()
        stopping = [False]
        signal.signal(signal.SIGTERM, lambda *a: stopping.__setitem__(0, True))
        try:
            while not stopping[0]:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            box.stop()
            if server is not None:
                server.shutdown()
