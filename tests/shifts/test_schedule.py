"""Shift arithmetic: boundaries to the second, and definitions that must tile the day."""

from datetime import date, datetime, time

import pytest

from siaga.shifts.schedule import ScheduleError, Window, check_tiling, locate, parse_spec

DEFAULT = parse_spec("Pagi=07:00-15:00,Siang=15:00-23:00,Malam=23:00-07:00")


@pytest.mark.parametrize(("moment", "shift_date", "name"), [
    ("2026-11-28 06:59:59", date(2026, 11, 27), "Malam"),
    ("2026-11-28 07:00:00", date(2026, 11, 28), "Pagi"),
    ("2026-11-28 14:59:59.999", date(2026, 11, 28), "Pagi"),
    ("2026-11-28 15:00:00", date(2026, 11, 28), "Siang"),
    ("2026-11-28 22:59:59", date(2026, 11, 28), "Siang"),
    ("2026-11-28 23:00:00", date(2026, 11, 28), "Malam"),
    ("2026-11-29 00:00:00", date(2026, 11, 28), "Malam"),
    ("2026-12-31 23:59:59", date(2026, 12, 31), "Malam"),
    ("2027-01-01 06:30:00", date(2026, 12, 31), "Malam"),
])
def test_boundaries(moment: str, shift_date: date, name: str) -> None:
    day, window = locate(datetime.fromisoformat(moment), DEFAULT)
    assert (day, window.name) == (shift_date, name)


@pytest.mark.parametrize(("spec", "words"), [
    ("Pagi=07:00-15:00,Siang=15:00-22:00,Malam=23:00-07:00", "gap of 60 min between Siang"),
    ("Pagi=07:00-15:30,Siang=15:00-23:00,Malam=23:00-07:00", "Pagi (ends 15:30) overlaps Siang"),
    ("Pagi=07:00-19:00", "single shift must last 24 hours"),
    ("Pagi=07:00-15:00,Pagi=15:00-07:00", "codes must differ"),
    ("Pagi 07:00-15:00", "is not NAME=HH:MM-HH:MM"),
    ("Pagi=25:00-15:00,Siang=15:00-01:00", "impossible time"),
    ("", "at least one shift"),
])
def test_bad_definitions_are_named(spec: str, words: str) -> None:
    with pytest.raises(ScheduleError) as err:
        parse_spec(spec)
    assert any(words in problem for problem in err.value.problems), err.value.problems


def test_other_tilings() -> None:
    twelve = parse_spec("Siang=08:00-20:00,Malam=20:00-08:00")
    assert locate(datetime(2026, 11, 28, 7, 59), twelve)[1].name == "Malam"
    assert locate(datetime(2026, 11, 28, 8, 0), twelve)[1].name == "Siang"
    assert check_tiling([Window("x", "Hari", time(0), time(0))]) == []
