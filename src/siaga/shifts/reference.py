"""The default shifts: Pagi 07:00-15:00, Siang 15:00-23:00, Malam 23:00-07:00 WIB; 3 operators + 1 supervisor."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING

from siaga.shifts.models import ShiftDefinition

if TYPE_CHECKING:
    from siaga.core.reference import LoadReport

DEFAULTS = [("pagi", "Pagi", time(7), time(15)), ("siang", "Siang", time(15), time(23)),
            ("malam", "Malam", time(23), time(7))]


def load_shift_definitions(report: LoadReport) -> None:
    """Created only when no shift is defined: a city's own definitions are never overwritten."""
    if ShiftDefinition.objects.exists():
        return
    for code, name, start, end in DEFAULTS:
        ShiftDefinition.objects.create(code=code, name=name, start=start, end=end, min_operators=3, min_supervisors=1)
        report.count("shift_definition", True)
    from siaga.shifts import queries

    queries.forget()
