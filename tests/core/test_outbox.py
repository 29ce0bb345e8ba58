"""The one outbox: its retry policy, its claim under a lease, and the lane that works it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siaga.core import outbox

MOMENT = datetime(2027, 3, 1, 0, 20, tzinfo=UTC)


def test_the_policy_retries_quickly_first_then_for_hours_and_gives_up() -> None:
    policy = outbox.POLICY
    waits = [w.total_seconds() for w in policy.backoff]
    assert waits == sorted(waits), "the waits never get shorter"
    assert waits[0] <= 5, "a siren's broker restarting is tried again within seconds"
    assert 4 * 3600 <= sum(waits) <= 8 * 3600, "a receiver down for an afternoon still gets it"
    assert policy.lease > timedelta(seconds=30)  # longer than any channel's own timeout
    assert policy.next_try(1, MOMENT) == MOMENT + policy.backoff[0]
    assert policy.next_try(policy.max_attempts - 1, MOMENT) == MOMENT + policy.backoff[-1]
    assert policy.next_try(policy.max_attempts, MOMENT) is None
    with pytest.raises(ValueError):
        policy.next_try(0, MOMENT)


@given(st.integers(min_value=1, max_value=40), st.text(max_size=20))
def test_a_try_ends_sent_retried_later_or_given_up(number: int, error: str) -> None:
    verdict = outbox.after(number, error, MOMENT)
    if not error:
        assert verdict == outbox.Next("done")
    elif number < outbox.POLICY.max_attempts:
        assert verdict.state == "retry" and verdict.at is not None and verdict.at > MOMENT
    else:
        assert verdict == outbox.Next("gave_up")


@pytest.fixture
def rows(db: Any, reference: None) -> Any:
    """Ten webhook deliveries, due now (the outbox's rows are the product's own tables)."""
    from siaga.webhooks.models import Delivery, Webhook

    hook = Webhook.objects.create(name="outbox", url="http://127.0.0.1:9/")
    Delivery.objects.bulk_create([Delivery(webhook=hook, topic="incident.created", payload={"n": n},
                                           next_attempt_at=MOMENT - timedelta(seconds=n)) for n in range(10)])
    return Delivery


def claim(model: Any, now: datetime, limit: int = 100) -> list[Any]:
    return outbox.claim(model.objects.all(), due=["pending", "retrying"], sending="sending", now=now, limit=limit)


def test_claim_takes_due_rows_oldest_first_and_leases_them(rows: Any) -> None:
    first = claim(rows, MOMENT, limit=4)
    assert [r.payload["n"] for r in first] == [9, 8, 7, 6]
    leased = rows.objects.filter(pk__in=[r.pk for r in first])
    assert {(r.status, r.lease_until) for r in leased} == {("sending", MOMENT + outbox.POLICY.lease)}
    assert [r.payload["n"] for r in claim(rows, MOMENT)] == [5, 4, 3, 2, 1, 0]  # not the leased ones again
    assert claim(rows, MOMENT) == []


def test_a_row_whose_worker_died_is_taken_again_when_its_lease_runs_out(rows: Any) -> None:
    taken = claim(rows, MOMENT)
    assert len(taken) == 10
    assert claim(rows, MOMENT + outbox.POLICY.lease) == []  # the lease holds until it has passed
    again = claim(rows, MOMENT + outbox.POLICY.lease + timedelta(microseconds=1))
    assert sorted(r.pk for r in again) == sorted(r.pk for r in taken)


def test_rows_not_yet_due_and_finished_rows_are_left(rows: Any) -> None:
    rows.objects.filter(payload__n__in=[0, 1]).update(next_attempt_at=MOMENT + timedelta(seconds=5))
    rows.objects.filter(payload__n=2).update(status="delivered")
    rows.objects.filter(payload__n=3).update(status="gave_up")
    assert sorted(r.payload["n"] for r in claim(rows, MOMENT)) == [4, 5, 6, 7, 8, 9]
    assert sorted(r.payload["n"] for r in claim(rows, MOMENT + timedelta(seconds=5))) == [0, 1]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_never_take_the_same_row(reference: None) -> None:
    """On PostgreSQL with SKIP LOCKED, on SQLite by its one writer: every row is taken exactly once."""
    from django.db import connections

    from siaga.webhooks.models import Delivery, Webhook

    hook = Webhook.objects.create(name="outbox-race", url="http://127.0.0.1:9/")
    Delivery.objects.bulk_create([Delivery(webhook=hook, topic="t", payload={"n": n}, next_attempt_at=MOMENT)
                                  for n in range(200)])
    taken: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def worker(index: int) -> None:
        try:
            start.wait()
            while batch := claim(Delivery, MOMENT, limit=7):
                taken[index].extend(r.pk for r in batch)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    everything = taken[0] + taken[1]
    assert len(everything) == len(set(everything)) == 200


def test_a_lane_works_while_there_is_work_wakes_on_demand_and_survives_a_failing_round() -> None:
    queue: list[object] = [3, "boom", 2, 0]
    rounds: list[object] = []
    boomed, idle, swept = threading.Event(), threading.Event(), threading.Event()

    def work() -> int:
        item = queue.pop(0) if queue else 0
        rounds.append(item)
        if item == "boom":
            boomed.set()
            raise RuntimeError("a channel crashed")
        if item == 0:
            idle.set()
        return int(item)  # type: ignore[call-overload]

    lane = outbox.Lane("test", work, interval=3600, every=[(3600, swept.set)])
    lane.start()
    try:
        assert boomed.wait(10) and swept.is_set()  # 3 was work: the next round came at once
        # after the failed round the lane sleeps (an hour) until woken: rows were queued
        lane.wake()
        assert idle.wait(10)
        assert rounds == [3, "boom", 2, 0]
        assert lane.is_alive()
    finally:
        lane.stop()
        lane.join(5)
    assert not lane.is_alive()


def test_a_lane_without_its_lease_does_no_work() -> None:
    import time

    calls: list[int] = []
    held = threading.Event()
    lane = outbox.Lane("guarded", lambda: calls.append(1) or 0, interval=0.01, guard=held.is_set)
    lane.start()
    try:
        deadline = time.monotonic() + 10
        while lane.rounds < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lane.rounds >= 5 and calls == []
        held.set()
        while not calls and time.monotonic() < deadline:
            time.sleep(0.01)
        assert calls
    finally:
        lane.stop()
        lane.join(5)
