"""The test clock: run the suite as if it were another day, in every process it starts.

``SIAGA_TEST_CLOCK=2028-02-29T12:00:00+07:00 make test`` (or ``make test-clocks``, which runs the
date-sensitive tests on the first and last day of a month, on 31 December and on 29 February) moves the
clock of the test process with time-machine, and of every ``siaga`` process the tests start (through
:data:`SIAGA`, which then runs the CLI under ``tests/clockrun.py``) and of every browser page (Playwright's
clock). The clock keeps ticking; the offset from the real clock is handed to child processes in
``TEST_CLOCK_OFFSET`` (not a ``SIAGA_`` variable, so test helpers that drop those keep it), so that all of
them agree on what "now" is. Without ``SIAGA_TEST_CLOCK`` nothing changes.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

SETTING = "SIAGA_TEST_CLOCK"
OFFSET = "TEST_CLOCK_OFFSET"
CLOCKRUN = str(Path(__file__).with_name("clockrun.py"))
_travel = None


def offset() -> float | None:
    """Seconds between the test clock and the real one (None: the real clock is used)."""
    if os.environ.get(OFFSET):
        return float(os.environ[OFFSET])
    wanted = os.environ.get(SETTING)
    if not wanted:
        return None
    moment = datetime.fromisoformat(wanted)
    if moment.tzinfo is None:
        raise ValueError(f"{SETTING}={wanted!r} needs a UTC offset, e.g. 2028-02-29T12:00:00+07:00")
    seconds = moment.timestamp() - time.time()
    os.environ[OFFSET] = repr(seconds)  # the processes started from now on share it
    return seconds


def start() -> None:
    """Move this process's clock (idempotent)."""
    global _travel
    shift = offset()
    if shift is None or _travel is not None:
        return
    import time_machine

    _travel = time_machine.travel(time.time() + shift, tick=True)
    _travel.start()


def now() -> datetime:
    return datetime.now(UTC)


def real_time() -> float:
    """The real clock's time.time(), also while this process is on the test clock."""
    if _travel is None:
        return time.time()
    import time_machine

    return float(time_machine.escape_hatch.time.time())


def siaga() -> list[str]:
    """The command that runs ``siaga`` in a child process on the same clock."""
    if offset() is None:
        return [sys.executable, "-m", "siaga.cli"]
    return [sys.executable, CLOCKRUN]


def child_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` plus what a child process needs to share the test clock."""
    shift = offset()
    return env if shift is None else {**env, OFFSET: repr(shift)}
