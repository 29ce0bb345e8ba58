"""The demo roster is complete by the coverage rules, and loading it twice adds nothing."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from siaga.shifts import queries
from siaga.shifts.actions import month_bounds
from siaga.shifts.demo import demo_roster

pytestmark = pytest.mark.django_db


def test_demo_roster_is_complete_and_idempotent(reference: Any) -> None:
    month = (timezone.localdate().replace(day=1) + timedelta(days=70)).strftime("%Y-%m")
    [(_, added)] = demo_roster(month)
    first, last = month_bounds(month)
    assert added == ((last - first).days + 1) * 3 * 4
    result = queries.coverage(first, last)
    assert result.ok, (result.understaffed[:3], result.too_long[:3])
    assert demo_roster(month) == [(month, 0)]
