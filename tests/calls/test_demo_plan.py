"""The demo's traffic: a real night-time lull in a backfill, and a minimum at any hour live, so a newcomer
at 02:00 WIB has calls to work on (issue 13). Dates are fixed: nothing depends on today."""

import random
from datetime import UTC, datetime

from siaga.calls import demo

NIGHT = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)  # 01:00 WIB: the three quietest hours follow


def test_the_night_keeps_a_minimum_live_but_not_in_a_backfill() -> None:
    lull = demo.plan(NIGHT, 180, random.Random(0), rate_per_hour=20)
    live = demo.plan(NIGHT, 180, random.Random(0), rate_per_hour=20,
                     minimum_per_hour=demo.LIVE_MINIMUM_PER_HOUR)
    assert len(lull.calls) < 25  # 20/h x 0.15-0.3 at night
    assert len(live.calls) >= 30 and len(live.calls) > 1.5 * len(lull.calls)  # about 12 an hour
    # a third is answered at the demo operator's extension: about one every quarter of an hour
    assert demo.LIVE_MINIMUM_PER_HOUR / 3 >= 4


def test_the_day_is_not_changed_by_the_minimum() -> None:
    noon = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)  # 12:00 WIB
    plain = demo.plan(noon, 120, random.Random(9), rate_per_hour=40)
    floored = demo.plan(noon, 120, random.Random(9), rate_per_hour=40, minimum_per_hour=12)
    assert [c.offered_at for c in plain.calls] == [c.offered_at for c in floored.calls]
