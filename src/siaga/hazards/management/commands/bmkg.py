"""``siaga bmkg``: classify records, poll the feeds, run and drive the local BMKG replay server.

``classify FILE...``: what this city would see for each quake in BMKG / InaTEWS / USGS files, one JSON
object per quake per line. A file that cannot be read or parsed, or a record in it that cannot be used: a
message naming the file, the record and the field on standard error, exit status 1 (the other records and
files are still classified).
``poll [--once]``: poll the configured feeds in the foreground (as `siaga serve` does in the background).
``replay [--port 8119]``: serve the recorded BMKG records locally (see siaga.hazards.replay).
``publish --replay URL --feed F --scenario FILE``: put a drill scenario on a running replay server.
"""

import json
import logging
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import LazyText
from siaga.formats import feeds
from siaga.formats.errors import FormatError
from siaga.formats.quake import iso_utc
from siaga.hazards.config import city, policy_config
from siaga.hazards.policy import decide

log = logging.getLogger("siaga.hazards")


def classification(reading: feeds.Reading) -> dict[str, Any]:
    quake = reading.quake
    decision = decide(quake, city(), policy_config(), reading.warning)
    if not quake.potential_known and quake.potential_text.strip():
        log.warning("unknown BMKG Potensi wording %r (event %s): BMKG's tsunami criteria decide",
                    quake.potential_text, quake.event_id)
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
        "review": list(decision.review),
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
        poll = sub.add_parser("poll", help="poll the configured feeds in the foreground")
        poll.add_argument("--once", action="store_true", help="poll each feed once and print what happened")
        replay = sub.add_parser("replay", help="serve recorded BMKG records and drill scenarios on loopback")
        replay.add_argument("--host", default="127.0.0.1")
        replay.add_argument("--port", type=int, default=8119)
        replay.add_argument("--token", default="", help="require X-Replay-Token on the control endpoints")
        replay.add_argument("--empty", action="store_true", help="start without the recorded records")
        publish = sub.add_parser("publish", help="publish a record on a running replay server")
        publish.add_argument("--replay", default="http://127.0.0.1:8119")
        publish.add_argument("--feed", required=True, choices=["autogempa", "gempaterkini", "gempadirasakan",
                                                                "inatews"])
        publish.add_argument("--scenario", required=True, help="a file name from hazards/data/scenarios")
        publish.add_argument("--keep-time", action="store_true", help="do not move the record's times to now")
        publish.add_argument("--token", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "poll":
            self.poll(options["once"])
            return
        if verb == "replay":
            self.replay(options)
            return
        if verb == "publish":
            self.publish(options)
            return
        failed = False
        for name in options["files"]:
            try:
                data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
                document = feeds.read_each(data, _source_from_name(name))
            except OSError as exc:
                self.stderr.write(str(LazyText(
                    pgettext_lazy("cli", "siaga bmkg: {name}: cannot read ({value})"), name=name,
                    value=exc.strerror or exc)))
                failed = True
                continue
            except FormatError as exc:
                field = f" (field {exc.field})" if exc.field else ""
                self.stderr.write(str(LazyText(
                    pgettext_lazy("cli", "siaga bmkg: {name}{field_}: {message_}"), name=name, field_=field,
                    message_=exc.message)))
                failed = True
                continue
            for bad in document.bad:  # a bad record is named; the others are still classified
                self.stderr.write(str(LazyText(
                    pgettext_lazy("cli", "siaga bmkg: {name} record {index} (field {field_}): {message_}"), name=name,
                    index=bad.index, field_=bad.field, message_=bad.message)))
                failed = True
            readings = document.readings
            if not options["all"]:
                readings = feeds.distinct(readings)
            for reading in readings:
                self.stdout.write(json.dumps(classification(reading), ensure_ascii=False))
        if failed:
            sys.exit(1)


    def poll(self, once: bool) -> None:
        import httpx
        from django.conf import settings

        from siaga.hazards import poller

        if not once:
            logging.getLogger("siaga").setLevel(logging.INFO)
            threads = poller.start_all()
            self.stdout.write(str(LazyText(
                pgettext_lazy("cli", "polling {len} feeds every {poll_interval_seconds:g} s; Ctrl-C stops"),
                len=len(threads), poll_interval_seconds=settings.POLL_INTERVAL_SECONDS)))
            try:
                for thread in threads:
                    thread.join()
            except KeyboardInterrupt:
                return
            return
        with httpx.Client(timeout=settings.POLL_TIMEOUT_SECONDS, follow_redirects=True) as client:
            for feed in poller.ensure_feeds():
                outcome = poller.poll_once(feed, client)
                result = outcome.result
                self.stdout.write(json.dumps({
                    "feed": feed.name, "status": outcome.status, "error": outcome.error or None,
                    "new_events": len(result.new_events) if result else 0,
                    "updated_events": len(result.updated_events) if result else 0,
                    "repeats": result.repeats if result else 0, "alerts": result.alerts if result else []}))

    def replay(self, options: dict[str, Any]) -> None:
        from siaga.hazards.replay import ReplayServer

        server = ReplayServer(options["host"], options["port"], token=options["token"],
                              recorded=not options["empty"])
        self.stdout.write(str(LazyText(
            pgettext_lazy("cli", "BMKG replay on {url}/DataMKG/TEWS/autogempa.json (InaTEWS: "
                                 "{url2}/inatews/warning.json); Ctrl-C stops"), url=server.url, url2=server.url)))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            server.server_close()

    def publish(self, options: dict[str, Any]) -> None:
        import httpx

        body = {"feed": options["feed"], "scenario": options["scenario"], "shift_to_now": not options["keep_time"]}
        try:
            response = httpx.post(options["replay"].rstrip("/") + "/control/publish", json=body, timeout=5,
                                  headers={"X-Replay-Token": options["token"]})
        except httpx.HTTPError as exc:
            self.stderr.write(str(LazyText(
                pgettext_lazy("cli", "siaga bmkg publish: {value}: {exc}"), value=options['replay'], exc=exc)))
            sys.exit(1)
        if response.status_code != 200:
            self.stderr.write(str(LazyText(
                pgettext_lazy("cli", "siaga bmkg publish: {status_code} {text}"), status_code=response.status_code,
                text=response.text)))
            sys.exit(1)
        self.stdout.write(response.text)


def _source_from_name(name: str) -> str | None:
    stem = Path(name).name.lower()
    for feed in ("autogempa", "gempaterkini", "gempadirasakan"):
        if stem.startswith(feed):
            return feed
    return None
