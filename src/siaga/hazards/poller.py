"""Polling the hazard feeds: conditional requests, timeouts, a health record per feed, never a crash.

One thread per feed URL (``SIAGA_BMKG_FEEDS``, ``SIAGA_INATEWS_FEEDS``, ``SIAGA_USGS_FEEDS``,
``SIAGA_CAP_FEEDS``), each asking every ``SIAGA_POLL_INTERVAL_SECONDS`` with ``If-None-Match`` /
``If-Modified-Since``. A 304 costs BMKG nothing; a 5xx, a timeout, truncated JSON or an HTML error page is
written to the feed's health record (last error, consecutive failures) and the next poll tries again: the
validators are only kept from a response that was read completely, so nothing is skipped.

A poll has a total deadline (``SIAGA_POLL_DEADLINE_SECONDS``) besides the timeout between two bytes, and the
body is read with the size limit as it streams: a server that sends one byte every few seconds, or 60 MB,
costs one deadline, not the poller. A record of a list that cannot be used is counted in the feed's health
with its reason; the other records are ingested (a bad record must not hide a tsunami in the next one).
A feed whose last attempt is overdue shows degraded (:meth:`Feed.status`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import close_old_connections
from django.db.models import F
from django.utils import timezone

from siaga.core.events import get_bus
from siaga.formats import feeds
from siaga.formats.errors import FormatError
from siaga.hazards.actions import IngestResult, do_ingest
from siaga.hazards.models import Feed, FeedKind

log = logging.getLogger("siaga.hazards")
USER_AGENT = "Siaga112/0.1 (112 Kota Cilegon; +https://github.com/siaga112)"
# documents of a kind read by another app (CAP feeds: alerts.external), registered from downstream
_handlers: dict[str, Callable[[Feed, bytes], None]] = {}


def handle_kind(kind: str, handler: Callable[[Feed, bytes], None]) -> None:
    """Feeds of ``kind`` are read by ``handler(feed, body)`` instead of the hazard ingestion."""
    _handlers[kind] = handler


@dataclass
class PollOutcome:
    status: int | None
    changed: bool
    error: str = ""
    result: IngestResult | None = None


def feed_name(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"[:100] or url[:100]


def _bmkg_source(url: str) -> str | None:
    last = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    for name in ("autogempa", "gempaterkini", "gempadirasakan"):
        if last.startswith(name):
            return name
    return None


def configured() -> list[tuple[str, str]]:
    """(kind, url) for every feed in the settings."""
    found = [(FeedKind.BMKG.value, u) for u in settings.BMKG_FEEDS]
    found += [(FeedKind.INATEWS.value, u) for u in settings.INATEWS_FEEDS]
    found += [(FeedKind.USGS.value, u) for u in settings.USGS_FEEDS]
    found += [(FeedKind.CAP.value, u) for u in settings.CAP_FEEDS]
    return found


def ensure_feeds() -> list[Feed]:
    """The Feed rows for the configured URLs (created or brought up to date); others are left disabled."""
    result = []
    drill = set(settings.DRILL_FEEDS)
    wanted = set()
    for kind, url in configured():
        name = feed_name(url)
        wanted.add(name)
        feed, _ = Feed.objects.update_or_create(name=name, defaults={"kind": kind, "url": url, "enabled": True,
                                                                     "drill": url in drill})
        result.append(feed)
    Feed.objects.exclude(name__in=wanted).update(enabled=False)
    return result


def poll_once(feed: Feed, client: httpx.Client, now: datetime | None = None) -> PollOutcome:
    """One conditional GET of ``feed`` and what came of it; the health record is updated either way."""
    started = time.monotonic()
    moment = now or timezone.now()
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json, application/xml;q=0.9, */*;q=0.1"}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    status: int | None = None
    deadline = started + settings.POLL_DEADLINE_SECONDS
    try:
        with client.stream("GET", feed.url, headers=headers) as response:
            status = response.status_code
            if status in (204, 304):  # nothing new / nothing in force (an InaTEWS endpoint with no warning)
                _healthy(feed, moment, started, status, not_modified=True)
                return PollOutcome(status, changed=False)
            if status != 200:
                raise _PollError(f"HTTP {status}")
            body = _read_body(response, deadline)
            etag, last_modified = response.headers.get("etag", ""), response.headers.get("last-modified", "")
        result = _ingest(feed, body, moment)
    except httpx.TimeoutException as exc:
        return _failed(feed, moment, started, status, f"timeout after {settings.POLL_TIMEOUT_SECONDS:g} s "
                                                      f"({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return _failed(feed, moment, started, status, f"{type(exc).__name__}: {exc}")
    except FormatError as exc:
        return _failed(feed, moment, started, status, f"unreadable ({exc.field or 'document'}): {exc.message}")
    except _PollError as exc:
        return _failed(feed, moment, started, status, str(exc))
    except Exception as exc:  # never let one feed's surprise stop polling
        log.exception("feed %s: ingest failed", feed.name)
        close_old_connections()
        return _failed(feed, moment, started, status, f"{type(exc).__name__}: {exc}")
    feed.etag = etag[:200]
    feed.last_modified = last_modified[:100]
    _healthy(feed, moment, started, status)
    return PollOutcome(status, changed=True, result=result)


class _PollError(Exception):
    pass


def _read_body(response: httpx.Response, deadline: float) -> bytes:
    """The body, read as it arrives: refused past the size limit or the poll's deadline (a slow drip)."""
    limit = settings.POLL_MAX_BYTES
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _PollError(f"the response says it is {int(declared)} bytes, more than {limit}")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise _PollError(f"the response is more than {limit} bytes: not read further")
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise _PollError(f"the response did not arrive within the poll deadline of "
                             f"{settings.POLL_DEADLINE_SECONDS:g} s ({size} bytes so far)")
    return b"".join(chunks)


def _ingest(feed: Feed, body: bytes, moment: datetime) -> IngestResult:
    handler = _handlers.get(feed.kind)
    if handler is not None:
        handler(feed, body)
        return IngestResult()
    document = feeds.read_each(body, _bmkg_source(feed.url))
    _note_bad_records(feed, document, moment)
    if document.bad and not document.readings:
        raise _PollError(f"no record of the document could be used: {document.bad[0].message}")
    return do_ingest(feed, document.readings)


def _note_bad_records(feed: Feed, document: feeds.Document, moment: datetime) -> None:
    if not document.bad:
        if feed.last_bad_records:
            Feed.objects.filter(pk=feed.pk).update(last_bad_records=0)
            feed.last_bad_records = 0
        return
    first = document.bad[0]
    text = f"record {first.index} ({first.field}): {first.message}"
    log.warning("feed %s: %d record(s) could not be used, the others are read; %s", feed.name,
                len(document.bad), text)
    Feed.objects.filter(pk=feed.pk).update(bad_records=F("bad_records") + len(document.bad),
                                           last_bad_records=len(document.bad), last_bad_record=text[:500],
                                           last_bad_record_at=moment)
    feed.last_bad_records = len(document.bad)


def _healthy(feed: Feed, moment: datetime, started: float, status: int | None, not_modified: bool = False) -> None:
    duration = int((time.monotonic() - started) * 1000)
    Feed.objects.filter(pk=feed.pk).update(
        last_attempt_at=moment, last_success_at=moment, last_status=status, last_duration_ms=duration,
        consecutive_failures=0, polls=F("polls") + 1, not_modified=F("not_modified") + (1 if not_modified else 0),
        etag=feed.etag, last_modified=feed.last_modified, updated_at=timezone.now())
    if feed.consecutive_failures:
        log.info("feed %s recovered after %d failures", feed.name, feed.consecutive_failures)
        get_bus().publish("hazard.feed", {"name": feed.name, "healthy": True})
    feed.consecutive_failures = 0


def _failed(feed: Feed, moment: datetime, started: float, status: int | None, error: str) -> PollOutcome:
    duration = int((time.monotonic() - started) * 1000)
    feed.consecutive_failures += 1
    Feed.objects.filter(pk=feed.pk).update(
        last_attempt_at=moment, last_error_at=moment, last_error=error[:500], last_status=status,
        last_duration_ms=duration, consecutive_failures=F("consecutive_failures") + 1, polls=F("polls") + 1,
        updated_at=timezone.now())
    level = logging.ERROR if feed.consecutive_failures in (1, 10, 100) else logging.DEBUG
    log.log(level, "feed %s failed (%d in a row): %s", feed.name, feed.consecutive_failures, error)
    if feed.consecutive_failures == 1:
        get_bus().publish("hazard.feed", {"name": feed.name, "healthy": False, "error": error[:200]})
    return PollOutcome(status, changed=False, error=error)


class Poller(threading.Thread):
    """Polls one feed until stopped."""

    def __init__(self, feed: Feed, interval: float | None = None, timeout: float | None = None,
                 guard: Callable[[], bool] | None = None) -> None:
        super().__init__(name=f"siaga-poll-{feed.name}", daemon=True)
        self.guard = guard  # with several nodes: true while this node holds the pollers' lease
        self.feed = feed
        self.interval = interval if interval is not None else settings.POLL_INTERVAL_SECONDS
        self.timeout = timeout if timeout is not None else settings.POLL_TIMEOUT_SECONDS
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=self.timeout, follow_redirects=True) as client:  # per operation; a poll's whole
            # time is bounded by SIAGA_POLL_DEADLINE_SECONDS (poll_once)
            while not self.stopping.is_set():
                started = time.monotonic()
                if self.guard is not None and not self.guard():
                    self.stopping.wait(0.2)
                    continue
                try:
                    poll_once(self.feed, client)
                except Exception:
                    log.exception("poller %s", self.feed.name)
                    close_old_connections()
                self.stopping.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def stop(self) -> None:
        self.stopping.set()


def start_all(interval: float | None = None, guard: Callable[[], bool] | None = None) -> list[Poller]:
    pollers = [Poller(feed, interval, guard=guard) for feed in ensure_feeds()]
    for poller in pollers:
        poller.start()
    return pollers
