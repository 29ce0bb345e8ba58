"""``siaga ews``: DVB-T2 EWS signalling.

``encode --level AWAS --disaster 02 --postcodes 42431,42435 --message TEXT --seconds N --out FILE.ts``
    a TS file carrying one warning (in packages of at most 5 postcodes, as receivers read them).
``from-cap ALERT.xml [ALERT.xml ...] --seconds N --out FILE.ts``: the TS carrying the EWS of CAP alerts
    (several at once: each postcode gets the strongest). Both take ``--video CBR.ts`` (the warning inserted
    into a video TS, so a player shows a programme) and ``--tmdw-form mstar|mtk`` (default: the setting).
``decode FILE.ts``: each distinct package in a TS, one JSON object per line (read from PID 0x0080 as boxes
    do; the PAT must list programme 0x038F, or the command says no box would watch).
``broadcast --udp HOST:PORT [--udp ...]``: the carousel of what is on air, over UDP, until stopped.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import LazyText
from siaga.ews import fromcap, layout, sections, ts
from siaga.ews.demux import Demux, EwsSections
from siaga.formats import cap
from siaga.formats.errors import FormatError


def _disaster(text: str) -> int:
    try:
        value = int(text, 16)
    except ValueError:
        raise CommandError(str(LazyText(
            pgettext_lazy("cli", "--disaster must be a hex code such as 01 (earthquake) or 02 (tsunami), not {text!r}"),
            text=text))) \
            from None
    if value not in layout.DISASTERS:
        known = ", ".join(f"{k:02X} {v[0]}" for k, v in layout.DISASTERS.items())
        raise CommandError(str(LazyText(
            pgettext_lazy("cli", "--disaster {text} is not a known disaster code ({known})"), text=text, known=known)))
    return value


def write_ts(messages: list[sections.Message], seconds: float, out: str, *, pid: int, version: int = 0,
             video: str | None = None, form: str = "mstar") -> tuple[int, sections.Plan]:
    """The TS file: ``seconds`` of our carousel alone, or, with ``video``, that CBR video TS with the carousel
    inserted into its null packets (its length, at its bitrate)."""
    try:
        planned = sections.plan(messages, form)
        encoded = sections.encode(planned.packages, version, form)
    except sections.EncodeError as exc:
        raise CommandError(str(LazyText(pgettext_lazy("cli", "cannot encode: {exc}"), exc=exc))) from None
    bitrate, picture = settings.EWS_BITRATE, b""
    if video is not None:
        try:
            picture = Path(video).read_bytes()
            bitrate = ts.measure_bitrate(picture)
        except OSError as exc:
            raise CommandError(str(LazyText(
                pgettext_lazy("cli", "{video}: cannot read: {strerror}"), video=video,
                strerror=exc.strerror))) from None
        except ValueError as exc:
            raise CommandError(str(LazyText(
                pgettext_lazy("cli", "{video}: {exc} (make it CBR, e.g. ffmpeg -muxrate 1000000)"), video=video,
                exc=exc))) from None
    carousel = ts.Carousel(ts.Service(ews_pid=pid, name=settings.EWS_SERVICE_NAME), bitrate=max(bitrate, 50_000),
                           repeat_ms=settings.EWS_REPEAT_MS)
    carousel.set_sections(encoded)
    if video is not None:
        try:
            data = ts.insert_into(picture, carousel)
        except ValueError as exc:
            raise CommandError(str(LazyText(
                pgettext_lazy("cli", "{video}: {exc} (--pid)"), video=video, exc=exc))) from None
    else:
        data = carousel.seconds(seconds)
    Path(out).write_bytes(data)
    return len(data), planned


def watched(data: bytes) -> bool:
    """Does the TS's PAT list programme 0x038F (without it no box watches EWS)?"""
    for _pid, section in Demux({ts.PAT_PID}).feed(data):
        if section[0] == ts.PAT_TABLE:
            programmes = ts.parse_pat(section)
            return layout.PROGRAM_NUMBER in programmes or layout.PROGRAM_NUMBER in programmes.values()
    return False


def decode(data: bytes, pid: int | None = None, form: str = "mstar") -> list[dict[str, Any]]:
    """Every distinct EWS package (by content and versions) in a TS, in order of appearance."""
    reader = sections.CarouselReader(form)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for packet_pid, section in EwsSections(pid or layout.PID).feed(data):
        snapshot = reader.feed(section)
        if snapshot is None:
            continue
        for package in snapshot.packages:
            item = package.as_json()
            item["versions"] = snapshot.versions
            item["pid"] = packet_pid
            key = json.dumps(item, sort_keys=True)
            if key not in seen:
                seen.add(key)
                out.append(item)
    return out


class Command(BaseCommand):
    help = "DVB-T2 EWS: encode, from-cap, decode, broadcast."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        encode = sub.add_parser("encode", help="a TS file carrying one warning")
        encode.add_argument("--level", required=True, choices=sorted(layout.LEVELS))
        encode.add_argument("--disaster", required=True, help="hex disaster code: 01 earthquake, 02 tsunami, ...")
        encode.add_argument("--postcodes", required=True, help="comma-separated 5-digit postcodes")
        encode.add_argument("--message", required=True)
        encode.add_argument("--authority", default="BMKG", choices=sorted(layout.AUTHORITIES))
        encode.add_argument("--position", default="")
        encode.add_argument("--date", default="")
        encode.add_argument("--characteristic", default="")
        encode.add_argument("--disaster-type", default=None, help="default: the code's Indonesian name")
        encode.add_argument("--version", type=int, default=0, help="version_number of every sub-table (0-31)")
        for p in (encode, from_cap := sub.add_parser("from-cap", help="the TS for a CAP alert")):
            p.add_argument("--seconds", type=float, default=2.0)
            p.add_argument("--out", required=True)
            p.add_argument("--pid", type=lambda v: int(v, 0), default=None, choices=layout.PIDS, metavar="PID",
                           help="EWS PID: 0x0080 (default; what boxes read) or 0x038F")
            p.add_argument("--tmdw-form", choices=layout.TMDW_FORMS, default=None,
                           help="TMDW form of the viewers' boxes (default: SIAGA_EWS_TMDW_FORM)")
            p.add_argument("--video", default=None, help="a CBR video TS to carry the warning beside its programme "
                                                         "(the output then has the video's length; --seconds unused)")
        from_cap.add_argument("file", nargs="+")
        dec = sub.add_parser("decode", help="EWS packages in a TS file, one JSON object per line")
        dec.add_argument("file")
        dec.add_argument("--pid", type=lambda v: int(v, 0), default=None, help="default: 0x0080, as boxes read")
        dec.add_argument("--tmdw-form", choices=layout.TMDW_FORMS, default=None)
        broadcast = sub.add_parser("broadcast", help="send the carousel of what is on air over UDP")
        broadcast.add_argument("--udp", action="append", required=True, help="HOST:PORT (repeatable; multicast ok)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, options["verb"].replace("-", "_"))(options)

    def encode(self, options: dict[str, Any]) -> None:
        disaster = _disaster(options["disaster"])
        postcodes = [p.strip() for p in options["postcodes"].split(",") if p.strip()]
        if not postcodes:
            raise CommandError(str(pgettext_lazy("cli", "--postcodes needs at least one postcode")))
        message = sections.Message(
            key="cli", level=options["level"], disaster_code=disaster,
            authority=options["authority"], locations=tuple(sections.Location(p) for p in postcodes),
            disaster_type=options["disaster_type"] or layout.DISASTERS[disaster][0], position=options["position"],
            date=options["date"], characteristic=options["characteristic"], text=options["message"])
        size, planned = write_ts([message], options["seconds"], options["out"], pid=options["pid"] or settings.EWS_PID,
                                 version=options["version"], video=options["video"], form=self._form(options))
        self._report(options["out"], size, planned)

    def _form(self, options: dict[str, Any]) -> str:
        return str(options.get("tmdw_form") or settings.EWS_TMDW_FORM)

    def _report(self, out: str, size: int, planned: sections.Plan) -> None:
        postcodes = sum(len(p.locations) for p in planned.packages)
        self.stderr.write(str(LazyText(
            pgettext_lazy("cli", "{out}: {len} package(s), {postcodes} location(s), {size} bytes, {value} packets"),
            out=out, len=len(planned.packages), postcodes=postcodes, size=size, value=size // ts.PACKET)))
        for note in planned.notes:
            self.stderr.write(str(LazyText(pgettext_lazy("cli", "note: {note}"), note=note)))

    def from_cap(self, options: dict[str, Any]) -> None:
        messages = []
        for order, name in enumerate(options["file"]):
            path = Path(name)
            try:
                alert = cap.parse(path.read_bytes())
                level = fromcap.level_of(alert, fromcap.info_of(alert))
                message = fromcap.message_of(alert, key=f"{order + 1}:{path.name}", order=order)
            except OSError as exc:
                raise CommandError(str(LazyText(
                    pgettext_lazy("cli", "{path}: cannot read: {strerror}"), path=path,
                    strerror=exc.strerror))) from None
            except (FormatError, fromcap.NotBroadcastable) as exc:
                raise CommandError(f"{path}: {exc}") from None
            if level is None:
                self.stderr.write(str(LazyText(
                    pgettext_lazy("cli", "{path}: a {msg_type} with nothing for TV: not on air"), path=path,
                    msg_type=alert.msg_type)))
                continue
            messages.append(dataclasses.replace(message, level=level))
        size, planned = write_ts(messages, options["seconds"], options["out"], pid=options["pid"] or settings.EWS_PID,
                                 video=options["video"], form=self._form(options))
        self._report(options["out"], size, planned)

    def decode(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(str(LazyText(
                pgettext_lazy("cli", "{path}: cannot read: {strerror}"), path=path, strerror=exc.strerror))) from None
        if len(data) < ts.PACKET or ts.SYNC not in data[:ts.PACKET * 2]:
            raise CommandError(str(LazyText(
                pgettext_lazy("cli", "{path}: not an MPEG transport stream (no 0x47 sync byte in the first packets)"),
                path=path)))
        if not watched(data):
            self.stderr.write(str(LazyText(
                pgettext_lazy("cli", "{path}: the PAT lists no programme 0x{program_number:04X}: real boxes would not "
                                     "watch this stream's EWS"), path=path, program_number=layout.PROGRAM_NUMBER)))
        for item in decode(data, options["pid"], self._form(options)):
            self.stdout.write(json.dumps(item, ensure_ascii=False))

    def broadcast(self, options: dict[str, Any]) -> None:
        from siaga.broadcast.service import CarouselService

        try:
            service = CarouselService(options["udp"], on_version=lambda state: self.stdout.write(
                "TRDW {TRDW} TCDW {TCDW} TMDW {TMDW}: ".format(**state.versions)
                + f"{state.warnings} peringatan, {len(state.packages)} paket di udara "
                + ", ".join(f"{p.package_id}:{p.level}" for p in state.packages)))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        signal.signal(signal.SIGTERM, lambda *a: service.stop())
        service.start()
        self.stdout.write(str(LazyText(
            pgettext_lazy("cli", "EWS carousel on PID 0x{ews_pid:04X} to {names}; Ctrl-C stops it"),
            ews_pid=settings.EWS_PID, names=', '.join(options['udp']))))
        try:
            while service.is_alive():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            service.stop()
            service.join(5)
        sys.stdout.flush()
