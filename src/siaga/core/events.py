"""The live event bus: actions publish after commit, pages and services subscribe.

The default backend is in-process (one server process). Topics are dotted names (``call.updated``,
``incident.created``, ...); a subscriber asks for topic prefixes (``incident.``) or everything.
A slow subscriber never slows the publisher: its bounded queue drops the oldest event and counts it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

log = logging.getLogger("siaga.events")


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One event as subscribers see it."""

    id: int
    topic: str
    data: dict[str, Any]
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "topic": self.topic, "data": self.data, "at": self.at}


def _matches(topic: str, prefixes: tuple[str, ...]) -> bool:
    return not prefixes or any(topic == p or topic.startswith(p) for p in prefixes)


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

    def deliver(self, event: LiveEvent) -> None:
        if not _matches(event.topic, self.topics):
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self._put(event)
        else:
            try:
                self.loop.call_soon_threadsafe(self._put, event)
            except RuntimeError:  # the loop has closed: the subscriber is gone
                self.close()

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
        for sub in subs:
            sub.deliver(event)
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

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)


_bus: InProcessBus | None = None
_bus_lock = threading.Lock()


def get_bus() -> InProcessBus:
    """The process-wide bus (a Redis-backed bus for several web nodes is configured by SIAGA_REDIS_URL)."""
    global _bus
    if _bus is None:
        with _bus_lock:
            if _bus is None:
                _bus = InProcessBus()
    return _bus


def publish_on_commit(topic: str, data: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits, so no page ever sees a write that rolled back."""
    transaction.on_commit(lambda: get_bus().publish(topic, data))
