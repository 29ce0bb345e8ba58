"""``siaga ews``: DVB-T2 EWS signalling.

``encode --level AWAS --disaster 02 --postcodes 42431,42435 --message TEXT --seconds N --out FILE.ts``
    a TS file carrying one warning.
``from-cap ALERT.xml --seconds N --out FILE.ts``: the TS carrying the EWS message of a CAP alert.
    Both take ``--video CBR.ts``: the warning inserted into a video TS, so a player shows a programme.
``decode FILE.ts``: each distinct EWS message in a TS, one JSON object per line.
``broadcast --udp HOST:PORT [--udp ...]``: the carousel of what is on air, over UDP, until stopped.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from siaga.ews import layout, sections, ts
from siaga.ews.demux import EwsSections
from siaga.ews.fromcap import NotBroadcastable, message_of
from siaga.formats import cap
from siaga.formats.errors import FormatError


def _disaster(text: str) -> int:
    try:
        value = int(text, 16)
    except ValueError:
        raise CommandError(f"--disaster must be a hex code such as 01 (earthquake) or 02 (tsunami), not {text!r}") \
            from None
    if value not in layout.DISASTERS:
        known = ", ".join(f"{k:02X} {v[0]}" for k, v in layout.DISASTERS.items())
        raise CommandError(f"--disaster {text} is not a known disaster code ({known})")
    return value


def write_ts(messages: list[sections.Message], seconds: float, out: str, *, pid: int, version: int = 0,
             video: str | None = None) -> int:
    """The TS file: ``seconds`` of our carousel alone, or, with ``video``, that CBR video TS with the carousel
    inserted into its null packets (its length, at its bitrate)."""
    try:
        encoded = sections.encode(messages, version)
    except sections.EncodeError as exc:
        raise CommandError(f"cannot encode: {exc}") from None
    bitrate, picture = settings.EWS_BITRATE, b""
    if video is not None:
        try:
            picture = Path(video).read_bytes()
            bitrate = ts.measure_bitrate(picture)
        except OSError as exc:
            raise CommandError(f"{video}: cannot read: {exc.strerror}") from None
        except ValueError as exc:
            raise CommandError(f"{video}: {exc} (make it CBR, e.g. ffmpeg -muxrate 1000000)") from None
    carousel = ts.Carousel(ts.Service(ews_pid=pid, name=settings.EWS_SERVICE_NAME), bitrate=max(bitrate, 50_000),
                           repeat_ms=settings.EWS_REPEAT_MS)
    carousel.set_sections(encoded)
    if video is not None:
        try:
            data = ts.insert_into(picture, carousel)
        except ValueError as exc:
            raise CommandError(f"{video}: {exc} (--pid)") from None
    else:
        data = carousel.seconds(seconds)
    Path(out).write_bytes(data)
    return len(data)


def decode(data: bytes, pid: int | None = None) -> list[dict[str, Any]]:
    """Every distinct EWS message (by content and version) in a TS, in order of appearance."""
    reader = sections.CarouselReader()
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for packet_pid, section in EwsSections(pid, follow_pmt=pid is None).feed(data):
        snapshot = reader.feed(section)
        if snapshot is None:
            continue
        for message in snapshot.messages:
            item = message.as_json(snapshot.version)
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
        encode.add_argument("--level", required=True, choices=["AWAS", "SIAGA", "WASPADA", "END"])
        encode.add_argument("--disaster", required=True, help="hex disaster code: 01 earthquake, 02 tsunami, ...")
        encode.add_argument("--postcodes", required=True, help="comma-separated 5-digit postcodes")
        encode.add_argument("--message", required=True)
        encode.add_argument("--authority", default="BMKG", choices=sorted(layout.AUTHORITIES))
        encode.add_argument("--position", default="")
        encode.add_argument("--date", default="")
        encode.add_argument("--characteristic", default="")
        encode.add_argument("--disaster-type", default=None, help="default: the code's Indonesian name")
        encode.add_argument("--package", type=int, default=1)
        encode.add_argument("--version", type=int, default=0)
        for p in (encode, from_cap := sub.add_parser("from-cap", help="the TS for a CAP alert")):
            p.add_argument("--seconds", type=float, default=2.0)
            p.add_argument("--out", required=True)
            p.add_argument("--pid", type=lambda v: int(v, 0), default=None, help="EWS PID (default 0x0080)")
            p.add_argument("--video", default=None, help="a CBR video TS to carry the warning beside its programme "
                                                         "(the output then has the video's length; --seconds unused)")
        from_cap.add_argument("file")
        from_cap.add_argument("--package", type=int, default=1)
        dec = sub.add_parser("decode", help="EWS messages in a TS file, one JSON object per line")
        dec.add_argument("file")
        dec.add_argument("--pid", type=lambda v: int(v, 0), default=None, help="default: from the PMT")
        broadcast = sub.add_parser("broadcast", help="send the carousel of what is on air over UDP")
        broadcast.add_argument("--udp", action="append", required=True, help="HOST:PORT (repeatable; multicast ok)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, options["verb"].replace("-", "_"))(options)

    def encode(self, options: dict[str, Any]) -> None:
        disaster = _disaster(options["disaster"])
        postcodes = [p.strip() for p in options["postcodes"].split(",") if p.strip()]
        if not postcodes:
            raise CommandError("--postcodes needs at least one postcode")
        message = sections.Message(
            package_id=options["package"], level=options["level"], disaster_code=disaster,
            authority=options["authority"], locations=tuple(sections.Location(p) for p in postcodes),
            disaster_type=options["disaster_type"] or layout.DISASTERS[disaster][0], position=options["position"],
            date=options["date"], characteristic=options["characteristic"], text=options["message"])
        size = write_ts([message], options["seconds"], options["out"], pid=options["pid"] or settings.EWS_PID,
                        version=options["version"], video=options["video"])
        self.stderr.write(f"{options['out']}: {size} bytes, {size // ts.PACKET} packets")

    def from_cap(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        try:
            alert = cap.parse(path.read_bytes())
            message = message_of(alert, options["package"])
        except OSError as exc:
            raise CommandError(f"{path}: cannot read: {exc.strerror}") from None
        except (FormatError, NotBroadcastable) as exc:
            raise CommandError(f"{path}: {exc}") from None
        size = write_ts([message], options["seconds"], options["out"], pid=options["pid"] or settings.EWS_PID,
                        video=options["video"])
        self.stderr.write(f"{options['out']}: {message.level} {layout.DISASTERS.get(message.disaster_code, ('?',))[0]}"
                          f" for {len(message.locations)} postcodes, {size} bytes")

    def decode(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot read: {exc.strerror}") from None
        if len(data) < ts.PACKET or ts.SYNC not in data[:ts.PACKET * 2]:
            raise CommandError(f"{path}: not an MPEG transport stream (no 0x47 sync byte in the first packets)")
        for item in decode(data, options["pid"]):
            self.stdout.write(json.dumps(item, ensure_ascii=False))

    def broadcast(self, options: dict[str, Any]) -> None:
        from siaga.broadcast.service import CarouselService

        try:
            service = CarouselService(options["udp"], on_version=lambda v, m: self.stdout.write(
                f"versi {v}: {len(m)} peringatan di udara " + ", ".join(f"{x.package_id}:{x.level}" for x in m)))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        signal.signal(signal.SIGTERM, lambda *a: service.stop())
        service.start()
        self.stdout.write(f"EWS carousel on PID 0x{settings.EWS_PID:04X} to {', '.join(options['udp'])}; "
                          f"Ctrl-C stops it")
        try:
            while service.is_alive():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            service.stop()
            service.join(5)
        sys.stdout.flush()
