"""The live event bus: fan-out, topic filters, bounded queues, and publishing only after commit."""

import asyncio
import threading

import pytest
from django.db import transaction

from siaga.core.events import InProcessBus, get_bus, publish_on_commit


def test_fanout_and_topics() -> None:
    bus = InProcessBus()

    async def scenario() -> tuple[list[str], list[str]]:
        everything = bus.subscribe()
        incidents = bus.subscribe(["incident."])
        bus.publish("call.updated", {"id": 1})
        # published from another thread, as actions are
        thread = threading.Thread(target=bus.publish, args=("incident.created", {"id": 2}))
        thread.start()
        thread.join()
        got_all = [(await everything.get(1)).topic, (await everything.get(1)).topic]
        got_inc = [(await incidents.get(1)).topic]
        everything.close()
        incidents.close()
        return got_all, got_inc

    got_all, got_inc = asyncio.run(scenario())
    assert got_all == ["call.updated", "incident.created"]
    assert got_inc == ["incident.created"]
    assert bus.subscriber_count == 0


def test_slow_subscriber_drops_oldest_not_the_publisher() -> None:
    bus = InProcessBus()

    async def scenario() -> tuple[int, int]:
        sub = bus.subscribe(maxsize=3)
        for i in range(10):
            bus.publish("t", {"i": i})
        first = await sub.get(1)
        return first.data["i"], sub.dropped

    first, dropped = asyncio.run(scenario())
    assert (first, dropped) == (7, 7)


@pytest.mark.django_db(transaction=True)
def test_publish_after_commit_only() -> None:
    seen: list[str] = []
    remove = get_bus().add_listener(lambda e: seen.append(e.topic), ["t."])
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            publish_on_commit("t.rolled_back", {})
            raise RuntimeError("abort")
        with transaction.atomic():
            publish_on_commit("t.committed", {})
            assert seen == []  # not before the commit
        assert seen == ["t.committed"]
    finally:
        remove()
