"""Shift arithmetic without the database: which shift a moment falls in, and whether definitions tile a day.

Times are Jakarta wall-clock times (WIB has no daylight saving). A shift that ends at or before its start
crosses midnight and belongs to the date on which it starts: 28 Nov 23:00 - 29 Nov 07:00 is the night
shift of 28 Nov. Starts are inclusive, ends exclusive: 07:00:00 is the morning shift, 06:59:59 still the
night before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

DAY = 24 * 60
_SPEC = re.compile(r"^\s*([^=,]+?)\s*=\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Window:
    code: str
    name: str
    start: time
    end: time

    @property
    def start_minute(self) -> int:
        return self.start.hour * 60 + self.start.minute

    @property
    def minutes(self) -> int:
        length = (self.end.hour * 60 + self.end.minute) - self.start_minute
        return length if length > 0 else length + DAY


class ScheduleError(ValueError):
    """Definitions that do not tile the day, or a specification that cannot be read."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _clock(minute: int) -> str:
    minute %= DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"


def check_tiling(windows: Sequence[Window]) -> list[str]:
    """Every problem that stops the windows from covering each minute of the day exactly once."""
    problems: list[str] = []
    if not windows:
        return ["at least one shift is needed"]
    codes = [w.code for w in windows]
    if len(set(codes)) != len(codes):
        problems.append("shift codes must differ")
    for w in windows:
        if not w.name.strip():
            problems.append(f"shift {w.code!r} has no name")
        if w.start.second or w.end.second:
            problems.append(f"{w.name}: times are whole minutes")
    if len(windows) == 1:
        if windows[0].start != windows[0].end:
            problems.append(f"a single shift must last 24 hours ({windows[0].name} lasts {windows[0].minutes // 60} h)")
        return problems
    ordered = sorted(windows, key=lambda w: w.start_minute)
    for current, following in zip(ordered, ordered[1:] + ordered[:1], strict=True):
        end = (current.start_minute + current.minutes) % DAY
        if end == following.start_minute:
            continue
        gap = (following.start_minute - end) % DAY
        if gap < DAY / 2:
            problems.append(f"gap of {gap} min between {current.name} (ends {_clock(end)}) and {following.name} "
                            f"(starts {_clock(following.start_minute)})")
        else:
            problems.append(f"{current.name} (ends {_clock(end)}) overlaps {following.name} "
                            f"(starts {_clock(following.start_minute)})")
    total = sum(w.minutes for w in windows)
    if not problems and total != DAY:
        problems.append(f"the shifts add up to {total / 60:g} h, not 24 h")
    return problems


def parse_spec(spec: str) -> list[Window]:
    """``"Pagi=07:00-15:00,Siang=15:00-23:00,Malam=23:00-07:00"`` into windows (codes from the names)."""
    windows: list[Window] = []
    problems: list[str] = []
    for part in [p for p in spec.split(",") if p.strip()]:
        match = _SPEC.match(part)
        if not match:
            problems.append(f"{part.strip()!r} is not NAME=HH:MM-HH:MM")
            continue
        name, h1, m1, h2, m2 = match.groups()
        try:
            start, end = time(int(h1), int(m1)), time(int(h2), int(m2))
        except ValueError:
            problems.append(f"{part.strip()!r} has an impossible time")
            continue
        code = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        windows.append(Window(code=code, name=name.strip(), start=start, end=end))
    if problems:
        raise ScheduleError(problems)
    problems = check_tiling(windows)
    if problems:
        raise ScheduleError(problems)
    return windows


def locate(local: datetime, windows: Sequence[Window]) -> tuple[date, Window]:
    """The (shift date, window) a Jakarta wall-clock moment belongs to."""
    minute = local.hour * 60 + local.minute
    second_of_day = minute * 60 + local.second + local.microsecond / 1e6
    for w in windows:
        start = w.start_minute * 60
        end = start + w.minutes * 60
        if start <= second_of_day < end:
            return local.date(), w
        if end > DAY * 60 and second_of_day < end - DAY * 60:
            return local.date() - timedelta(days=1), w
    raise ScheduleError([f"no shift covers {local:%H:%M:%S}"])


def bounds(day: date, window: Window, tzinfo: object) -> tuple[datetime, datetime]:
    """Start and end (aware, in ``tzinfo``) of ``window`` on ``day``."""
    start = datetime.combine(day, window.start, tzinfo=tzinfo)  # type: ignore[arg-type]
    return start, start + timedelta(minutes=window.minutes)
