"""The CTI lane's group commit: concurrent submissions share transactions, a bad event is isolated."""

import threading
from concurrent.futures import wait
from typing import Any

import pytest

from siaga.calls.actions import IngestItem, IngestResult, do_ingest_cti_events
from siaga.calls.ingest import Batcher
from siaga.calls.models import Call, CtiEvent
from siaga.core.errors import Conflict
from siaga.formats import cti
from tests.calls.helpers import ev

pytestmark = pytest.mark.django_db(transaction=True)


def item(pbx: Any, body: dict[str, Any]) -> IngestItem:
    return IngestItem(pbx.integration, cti.validate(body), body)


def test_many_submissions_are_stored_in_few_batches(pbx: Any) -> None:
    gate = threading.Event()
    sizes: list[int] = []

    def slow_store(items: list[IngestItem]) -> list[Any]:
        gate.wait(5)  # hold the first batch so the rest queue up behind it
        sizes.append(len(items))
        return do_ingest_cti_events(items)

    batcher = Batcher(store=slow_store)
    futures = [batcher.submit(item(pbx, ev(kind, call=f"b{i}", at=n, caller="0812345678")))
               for i in range(40) for n, kind in enumerate(("offered", "answered", "ended"))]
    gate.set()
    wait(futures, timeout=30)
    batcher.stop()
    results = [f.result() for f in futures]
    assert all(isinstance(r, IngestResult) and not r.duplicate for r in results)
    assert sum(sizes) == 120 and len(sizes) < 10  # grouped, not one transaction per event
    assert CtiEvent.objects.count() == 120 and Call.objects.filter(state="ended").count() == 40


def test_a_failing_batch_is_retried_event_by_event(pbx: Any) -> None:
    calls: list[int] = []

    def flaky_store(items: list[IngestItem]) -> list[Any]:
        calls.append(len(items))
        if any(i.event.call_id == "poison" for i in items):
            raise RuntimeError("database said no")
        return do_ingest_cti_events(items)

    gate = threading.Event()

    def gated(items: list[IngestItem]) -> list[Any]:
        gate.wait(5)
        return flaky_store(items)

    batcher = Batcher(store=gated)
    good = [batcher.submit(item(pbx, ev("offered", call=f"g{i}", caller="0812345678"))) for i in range(5)]
    bad = batcher.submit(item(pbx, ev("offered", call="poison", caller="0812345678")))
    gate.set()
    wait([*good, bad], timeout=30)
    batcher.stop()
    assert all(isinstance(f.result(), IngestResult) for f in good)
    with pytest.raises(RuntimeError):
        bad.result()
    assert Call.objects.filter(call_ref__startswith="g").count() == 5
    assert not Call.objects.filter(call_ref="poison").exists()


def test_duplicates_and_conflicts_inside_one_batch(pbx: Any) -> None:
    body = ev("offered", call="d1", caller="0812345678")
    results = do_ingest_cti_events([item(pbx, body), item(pbx, body),
                                    item(pbx, {**body, "caller": "0899999999"}),
                                    item(pbx, ev("ended", call="d1", at=9))])
    assert [type(r).__name__ for r in results] == ["IngestResult", "IngestResult", "Conflict", "IngestResult"]
    assert results[1].duplicate is True and results[0].duplicate is False  # type: ignore[union-attr]
    assert isinstance(results[2], Conflict) and results[2].field == "event_id"
    assert CtiEvent.objects.count() == 2
    assert Call.objects.get(call_ref="d1").state == "ended"
