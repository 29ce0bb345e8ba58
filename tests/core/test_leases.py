"""Leases on the real database (SQLite, and PostgreSQL in its pass): one holder at a time, takeover only
after expiry, by the database's clock."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connections

from siaga.core.leases import Lease, holders
from siaga.core.models import Lease as LeaseRow

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_holder_then_renewal_keeps_the_generation() -> None:
    first, second = Lease("carousel", "node-a", ttl=3), Lease("carousel", "node-b", ttl=3)
    assert first.acquire() and first.held()
    generation = first.generation
    assert not second.acquire() and not second.held()
    assert first.acquire() and first.generation == generation  # a renewal is not a takeover
    row = LeaseRow.objects.get(pk="carousel")
    assert row.holder == "node-a" and row.expires_at > row.renewed_at
    assert holders()["carousel"]["holder"] == "node-a"


def test_takeover_only_after_expiry_and_generation_moves_on() -> None:
    first, second = Lease("pollers", "node-a", ttl=2, margin=0.5), Lease("pollers", "node-b", ttl=2)
    assert first.acquire()
    generation = first.generation
    assert generation is not None
    assert first.remaining() <= 1.5  # the holder trusts its lease less long than the database keeps it
    time.sleep(1.0)
    assert not second.acquire()
    time.sleep(1.3)  # node-a stopped renewing (as if killed): expired by the database's clock
    assert not first.held()
    assert second.acquire() and second.generation == generation + 1
    assert not first.acquire()  # the old holder finds it taken and knows it
    assert holders()["pollers"]["holder"] == "node-b"


def test_release_hands_over_at_once() -> None:
    first, second = Lease("carousel", "node-a", ttl=30), Lease("carousel", "node-b", ttl=30)
    assert first.acquire()
    first.release()
    assert not first.held()
    assert second.acquire()
    assert holders()["carousel"]["in_force"]


def test_racing_nodes_never_both_hold() -> None:
    """Eight threads (eight connections) try at once, many rounds: exactly one wins each round."""
    leases = [Lease("race", f"node-{i}", ttl=2) for i in range(8)]
    for round_ in range(5):
        LeaseRow.objects.filter(pk="race").update(holder="", expires_at="2000-01-01T00:00:00+00:00")
        won: list[str] = []
        barrier = threading.Barrier(len(leases))

        def attempt(lease: Lease, barrier: threading.Barrier = barrier, won: list[str] = won) -> None:
            try:
                barrier.wait()
                if lease.acquire():
                    won.append(lease.holder)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=attempt, args=(lease,)) for lease in leases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(won) == 1, (round_, won)
        assert LeaseRow.objects.get(pk="race").holder == won[0]


def test_unreachable_database_keeps_the_lease_only_until_its_local_deadline(monkeypatch: Any) -> None:
    from django.db import DatabaseError

    lease = Lease("carousel", "node-a", ttl=2, margin=0.5)
    assert lease.acquire()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(LeaseRow.objects, "filter", broken)  # the database goes away, not our code
    assert lease.acquire()  # still within the last renewal
    time.sleep(1.6)
    assert not lease.acquire() and not lease.held()


def test_too_short_a_lease_is_refused() -> None:
    with pytest.raises(ValueError, match="too short"):
        Lease("x", "node", ttl=0.5)
