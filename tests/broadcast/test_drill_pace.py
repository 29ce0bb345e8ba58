"""`siaga demo tsunami` is slow enough to watch (issue 13): each state is held --pace seconds (15 by default)
and --keep holds the emulators until a key is pressed."""

import subprocess
import time

from siaga.runtime import drill
from tests import clock


def test_each_state_is_held_for_the_pace_and_said_when_long() -> None:
    said: list[str] = []
    started = time.monotonic()
    drill.hold(0.3, said.append)
    assert time.monotonic() - started >= 0.3 and said == []  # a quick run says nothing
    drill.hold(0, said.append)
    assert said == []
    assert drill.DEFAULT_PACE >= 10  # a person looks at each box: not the 1 s it was


def test_keep_holds_until_enter() -> None:
    said: list[str] = []
    pressed: list[bool] = []
    drill.wait_for_key(said.append, read=lambda: pressed.append(True) or "")
    assert pressed == [True] and "tekan Enter" in said[0]


def test_the_command_offers_pace_and_keep() -> None:
    done = subprocess.run([*clock.siaga(), "demo", "tsunami", "--help"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0 and "--pace" in done.stdout and "default 15" in done.stdout
    assert "until Enter" in done.stdout
