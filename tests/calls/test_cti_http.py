"""CTI over real HTTP on loopback: concurrent retries of the same events are stored exactly once."""

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from siaga.calls.models import Call, CtiEvent
from tests.calls.helpers import ev

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_duplicates_over_http(live_server: Any, pbx: Any) -> None:
    url = live_server.url + "/api/v1/cti/events"
    headers = {"Authorization": f"Bearer {pbx.token}", "Content-Type": "application/json"}
    calls = [f"http-{i}" for i in range(10)]
    bodies = []
    for call in calls:
        bodies += [ev("offered", call=call, at=0, caller="0812345678" + call[-1]), ev("answered", call=call, at=5),
                   ev("ended", call=call, at=30)]
    # every event is sent three times, from 8 clients at once, in shuffled order
    work = [json.dumps(b) for b in bodies] * 3
    import random

    random.Random(4).shuffle(work)

    def send(body: str) -> int:
        with httpx.Client(timeout=30) as client:
            return client.post(url, content=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, work))
    assert set(statuses) <= {200, 201}, statuses
    assert statuses.count(201) == len(bodies)
    assert CtiEvent.objects.count() == len(bodies)
    assert Call.objects.count() == len(calls)
    for call in Call.objects.all():
        assert call.state == "ended" and call.answer_seconds == 5
