"""``siaga bmkg classify FILE...``: what this city would see for each quake in BMKG / InaTEWS / USGS files.

One JSON object per quake per line. A file that cannot be read or parsed: a message naming the file and
the field on standard error, exit status 1 (the other files are still classified).
"""

import json
import logging
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from siaga.formats import feeds
from siaga.formats.errors import FormatError
from siaga.formats.quake import iso_utc
from siaga.hazards.config import city, policy_config
from siaga.hazards.policy import decide

log = logging.getLogger("siaga.hazards")


def classification(reading: feeds.Reading) -> dict[str, Any]:
    quake = reading.quake
    decision = decide(quake, city(), policy_config(), reading.warning)
    if not quake.potential_known:
        log.warning("unknown BMKG Potensi wording %r (event %s): classified as tsunami potential=%s",
                    quake.potential_text, quake.event_id, quake.tsunami_potential)
    return {
        "event_id": quake.event_id,
        "source": quake.source,
        "time_utc": iso_utc(quake.time_utc),
        "magnitude": quake.magnitude,
        "depth_km": quake.depth_km,
        "lat": quake.lat,
        "lon": quake.lon,
        "region": quake.region,
        "tsunami_potential": quake.tsunami_potential,
        "potential_text": quake.potential_text,
        "distance_km": round(decision.distance_km, 1),
        "display": decision.display,
        "ews_level": decision.ews_level,
        "reasons": list(decision.reasons),
        "inatews_subject": reading.warning.subject if reading.warning else None,
    }


class Command(BaseCommand):
    help = "BMKG earthquake data: classify records with this city's warning policy."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        classify = sub.add_parser("classify", help="print one JSON line per quake: display, EWS level, distance")
        classify.add_argument("files", nargs="+", metavar="FILE")
        classify.add_argument("--all", action="store_true",
                              help="print every record, also repeats of the same quake in one file")

    def handle(self, *args: Any, **options: Any) -> None:
        failed = False
        for name in options["files"]:
            try:
                data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
                readings = feeds.read(data, _source_from_name(name))
            except OSError as exc:
                self.stderr.write(f"siaga bmkg: {name}: cannot read ({exc.strerror or exc})")
                failed = True
                continue
            except FormatError as exc:
                field = f" (field {exc.field})" if exc.field else ""
                self.stderr.write(f"siaga bmkg: {name}{field}: {exc.message}")
                failed = True
                continue
            if not options["all"]:
                readings = feeds.distinct(readings)
            for reading in readings:
                self.stdout.write(json.dumps(classification(reading), ensure_ascii=False))
        if failed:
            sys.exit(1)


def _source_from_name(name: str) -> str | None:
    stem = Path(name).name.lower()
    for feed in ("autogempa", "gempaterkini", "gempadirasakan"):
        if stem.startswith(feed):
            return feed
    return None
