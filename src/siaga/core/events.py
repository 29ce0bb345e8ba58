"""The live event bus: actions publish after commit, pages and services subscribe.

Two backends behind one interface:

* in-process (default): one server process, events go straight to its subscribers;
* Redis pub/sub (``SIAGA_REDIS_URL``): every process publishes to one Redis channel and delivers what it
  receives on it to its own subscribers, so a page connected to node B sees a write made on node A.

Topics are dotted names (``call.updated``, ``incident.created``, ...); a subscriber asks for topic
prefixes (``incident.``) or everything. A slow subscriber never slows the publisher: its bounded queue
drops the oldest event and counts it. Delivery to many subscribers on one event loop is one thread-safe
hand-over per loop, not one per subscriber.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

log = logging.getLogger("siaga.events")


class LiveEvent:
    """One event as subscribers see it. ``wire()`` is its Server-Sent-Events form, encoded once however
    many pages receive it."""

    __slots__ = ("_wire", "at", "data", "id", "topic")

    def __init__(self, id: int, topic: str, data: dict[str, Any], at: str | None = None) -> None:
        self.id = id
        self.topic = topic
        self.data = data
        self.at = at or datetime.now(UTC).isoformat()
        self._wire: bytes | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "topic": self.topic, "data": self.data, "at": self.at}

    def wire(self) -> bytes:
        if self._wire is None:
            body = json.dumps({"topic": self.topic, "data": self.data, "at": self.at}, default=str)
            self._wire = f"id: {self.id}\ndata: {body}\n\n".encode()
        return self._wire


# Delivered to every subscriber whatever topics it asked for: events may have been missed (the live bus was
# away and is back), so a page reloads what it shows instead of trusting its increments.
RESYNC_TOPIC = "live.resync"


def _matches(topic: str, prefixes: tuple[str, ...]) -> bool:
    return not prefixes or topic == RESYNC_TOPIC or any(topic == p or topic.startswith(p) for p in prefixes)


class Subscription:
    """An asyncio-side subscription with a bounded queue."""

    def __init__(self, bus: InProcessBus, topics: tuple[str, ...], maxsize: int) -> None:
        self.bus = bus
        self.topics = topics
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0
        self.closed = False

    def _put(self, event: LiveEvent) -> None:
        if self.closed:
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self, timeout: float | None = None) -> LiveEvent:
        return await asyncio.wait_for(self.queue.get(), timeout)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.bus._remove(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> LiveEvent:
        if self.closed:
            raise StopAsyncIteration
        return await self.queue.get()


def _put_all(subs: list[Subscription], event: LiveEvent) -> None:
    for sub in subs:
        sub._put(event)


class InProcessBus:
    """Fan-out inside one process; thread-safe publishing (actions run in worker threads)."""

    name = "inprocess"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: set[Subscription] = set()
        self._listeners: list[tuple[tuple[str, ...], Callable[[LiveEvent], None]]] = []
        self._ids = itertools.count(1)

    def publish(self, topic: str, data: dict[str, Any]) -> LiveEvent:
        event = LiveEvent(id=next(self._ids), topic=topic, data=data)
        self.deliver(event)
        return event

    def deliver(self, event: LiveEvent) -> None:
        with self._lock:
            subs = list(self._subs)
            listeners = list(self._listeners)
        by_loop: dict[asyncio.AbstractEventLoop, list[Subscription]] = {}
        for sub in subs:
            if _matches(event.topic, sub.topics):
                by_loop.setdefault(sub.loop, []).append(sub)
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, group in by_loop.items():
            if loop is running:
                _put_all(group, event)
            else:
                try:
                    loop.call_soon_threadsafe(_put_all, group, event)
                except RuntimeError:  # that loop has closed: its subscribers are gone
                    for sub in group:
                        sub.close()
        for prefixes, callback in listeners:
            if _matches(event.topic, prefixes):
                try:
                    callback(event)
                except Exception:  # a broken listener must not break the writer
                    log.exception("live event listener failed for %s", event.topic)

    def subscribe(self, topics: Iterable[str] = (), maxsize: int = 1000) -> Subscription:
        """Subscribe from inside a running event loop."""
        sub = Subscription(self, tuple(topics), maxsize)
        with self._lock:
            self._subs.add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    def add_listener(self, callback: Callable[[LiveEvent], None], topics: Iterable[str] = ()) -> Callable[[], None]:
        """A synchronous callback for every matching event; returns a function that removes it."""
        entry = (tuple(topics), callback)
        with self._lock:
            self._listeners.append(entry)

        def remove() -> None:
            with self._lock:
                if entry in self._listeners:
                    self._listeners.remove(entry)

        return remove

    def subscriptions_of(self, loop: asyncio.AbstractEventLoop) -> list[Subscription]:
        with self._lock:
            return [sub for sub in self._subs if sub.loop is loop]

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)


class RedisBus(InProcessBus):
    """Fan-out across processes through one Redis pub/sub channel.

    ``publish`` sends to Redis (from whatever thread the action ran in); a listener thread receives every
    message on the channel, this process's own included, and delivers it locally: one path for all events,
    so no page sees an event twice. If Redis cannot be reached when publishing, the event is delivered
    locally and the failure logged (the write itself has already committed); for the next
    ``OUTAGE_SECONDS`` publishing does not try Redis again, so a dead Redis costs a write one timeout, not
    one per event. When the listener is subscribed again after losing Redis, it delivers a
    ``live.resync`` event to this node's subscribers: events published elsewhere meanwhile never reached
    them, and the pages reload what they show.
    """

    OUTAGE_SECONDS = 2.0

    name = "redis"

    def __init__(self, url: str, channel: str = "siaga:live") -> None:
        import redis

        super().__init__()
        self.url = url
        self.channel = channel
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._listener: threading.Thread | None = None
        self._ready = threading.Event()
        self.node = uuid.uuid4().hex[:8]
        self._away_until = 0.0  # monotonic: publish delivers locally without trying Redis until then
        self.resyncs = 0

    def publish(self, topic: str, data: dict[str, Any]) -> LiveEvent:
        self._start()
        event = LiveEvent(id=next(self._ids), topic=topic, data=data)
        if time.monotonic() < self._away_until or (self._away_until and not self._ready.is_set()):
            self.deliver(event)  # Redis is away: this node's pages still see it
            return event
        message = json.dumps({"topic": topic, "data": data, "at": event.at, "node": self.node}, default=str)
        try:
            self._redis.publish(self.channel, message)
        except Exception as exc:
            self._away_until = time.monotonic() + self.OUTAGE_SECONDS
            log.warning("Redis publish failed for %s (%s); delivering on this node only", topic, exc)
            self.deliver(event)
        return event

    def subscribe(self, topics: Iterable[str] = (), maxsize: int = 1000) -> Subscription:
        self._start()
        return super().subscribe(topics, maxsize)

    def add_listener(self, callback: Callable[[LiveEvent], None], topics: Iterable[str] = ()) -> Callable[[], None]:
        self._start()
        return super().add_listener(callback, topics)

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """True once the listener is subscribed (events published before that are not seen here)."""
        self._start()
        return self._ready.wait(timeout)

    def _start(self) -> None:
        if self._listener is None:
            with self._lock:
                if self._listener is None:
                    self._listener = threading.Thread(target=self._listen, name="siaga-live-redis", daemon=True)
                    self._listener.start()

    def _listen(self) -> None:
        import redis

        lost = False
        while True:
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                self._ready.set()
                if lost:
                    lost = False
                    self._away_until = 0.0
                    self.resyncs += 1
                    log.warning("Redis live channel is back; pages on this node resynchronise")
                    self.deliver(LiveEvent(id=next(self._ids), topic=RESYNC_TOPIC, data={"reason": "bus"}))
                for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        body = json.loads(message["data"])
                        event = LiveEvent(id=next(self._ids), topic=str(body["topic"]), data=body["data"],
                                          at=str(body.get("at", "")))
                    except (ValueError, KeyError, TypeError):
                        log.warning("ignoring a malformed live event on %s", self.channel)
                        continue
                    self.deliver(event)
            except redis.RedisError as exc:
                self._ready.clear()
                if not lost:
                    log.warning("Redis live channel lost (%s); reconnecting", exc)
                lost = True
                self._away_until = max(self._away_until, time.monotonic() + self.OUTAGE_SECONDS)
                time.sleep(1.0)


_bus: InProcessBus | None = None
_bus_lock = threading.Lock()


def get_bus() -> InProcessBus:
    """The process-wide bus: Redis-backed when SIAGA_REDIS_URL is set, in-process otherwise."""
    global _bus
    if _bus is None:
        with _bus_lock:
            if _bus is None:
                from django.conf import settings

                _bus = (RedisBus(settings.REDIS_URL, settings.REDIS_CHANNEL) if settings.REDIS_URL
                        else InProcessBus())
    return _bus


def reset_bus() -> None:
    """Forget the process bus (tests that switch backends)."""
    global _bus
    with _bus_lock:
        _bus = None


# Called inside the writing transaction for every published event, so work that must not be lost (outbound
# webhook deliveries) is stored together with the change it reports. Registered by apps in ready().
_transactional_hooks: list[tuple[tuple[str, ...], Callable[[str, dict[str, Any]], None]]] = []


def register_transactional_hook(prefixes: Iterable[str], hook: Callable[[str, dict[str, Any]], None]) -> None:
    _transactional_hooks.append((tuple(prefixes), hook))


def publish_on_commit(topic: str, data: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits, so no page ever sees a write that rolled back."""
    for prefixes, hook in _transactional_hooks:
        if _matches(topic, prefixes):
            hook(topic, data)
    transaction.on_commit(lambda: get_bus().publish(topic, data))


# Which partner (an integration's id) the change being written came from: events it causes are not sent back
# to that partner's webhooks (siaga.webhooks.outbox), so two command centres do not echo each other.
change_origin: ContextVar[int | None] = ContextVar("siaga_change_origin", default=None)


@contextmanager
def changes_from(integration_id: int | None) -> Iterator[None]:
    token = change_origin.set(integration_id)
    try:
        yield
    finally:
        change_origin.reset(token)

