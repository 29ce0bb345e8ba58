"""The test clock (tests/clock.py) really moves the clock: here, in a ``siaga`` child process, and it ticks."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests import clock


def test_a_child_siaga_process_runs_on_the_offset_it_is_given() -> None:
    target = datetime(2028, 2, 29, 5, 0, tzinfo=UTC)
    env = {**os.environ, clock.OFFSET: repr(target.timestamp() - clock.real_time())}
    env.pop(clock.SETTING, None)
    done = subprocess.run([sys.executable, clock.CLOCKRUN, "shell", "-c",
                           "from django.utils import timezone; print(timezone.localdate().isoformat(), "
                           "timezone.now().isoformat())"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    local_date, now = done.stdout.strip().splitlines()[-1].split()
    assert local_date == "2028-02-29"  # 12:00 WIB
    assert abs(datetime.fromisoformat(now) - target) < timedelta(minutes=2)


@pytest.mark.skipif(clock.offset() is None, reason="runs only with SIAGA_TEST_CLOCK (make test-clocks)")
def test_this_process_runs_on_the_test_clock_and_it_ticks() -> None:
    wanted = datetime.fromisoformat(os.environ[clock.SETTING])
    first = datetime.now(UTC)
    assert abs(first - wanted) < timedelta(hours=1)  # the run started at the clock and has not run for hours
    time.sleep(0.05)
    assert datetime.now(UTC) > first
    assert clock.siaga()[1] == clock.CLOCKRUN
