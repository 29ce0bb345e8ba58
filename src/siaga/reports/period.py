"""Report periods: one shift, one day (00:00-24:00 WIB) or one month, as aware datetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import pgettext_lazy

from siaga.core.errors import ValidationFailed

MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember"]
DAYS_ID = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]


@dataclass(frozen=True)
class Period:
    kind: str  # "shift" | "daily" | "monthly"
    start: datetime
    end: datetime
    label: str  # Indonesian, for titles
    slug: str  # for file names: 2026-11-28, 2026-11, 2026-11-28-pagi
    shift_id: int | None = None

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start).total_seconds() / 86400))


def _local(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.get_default_timezone())


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValidationFailed(
            pgettext_lazy("error", "date {text!r} is not YYYY-MM-DD (e.g. 2026-11-28)"), field="date",
            text=text) from None


def daily(day: date) -> Period:
    label = f"{DAYS_ID[day.weekday()]}, {day.day} {MONTHS_ID[day.month - 1]} {day.year}"
    return Period("daily", _local(day), _local(day + timedelta(days=1)), label, day.isoformat())


def monthly(month: str) -> Period:
    if len(month) != 7:
        raise ValidationFailed(
            pgettext_lazy("error", "month {month!r} is not YYYY-MM (e.g. 2026-11)"), field="month", month=month)
    try:
        first = date.fromisoformat(month + "-01")
    except ValueError:
        raise ValidationFailed(
            pgettext_lazy("error", "month {month!r} is not YYYY-MM (e.g. 2026-11)"), field="month",
            month=month) from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period("monthly", _local(first), _local(following), f"{MONTHS_ID[first.month - 1]} {first.year}", month)


def of_shift(day: date, code: str) -> Period:
    from siaga.shifts.models import ShiftDefinition
    from siaga.shifts.queries import get_shift

    definition = ShiftDefinition.objects.filter(code=code).first()
    if definition is None:
        codes = ", ".join(ShiftDefinition.objects.values_list("code", flat=True))
        raise ValidationFailed(
            pgettext_lazy("error", "shift {code_!r} is unknown; the shifts are {codes}"), field="shift", code_=code,
            codes=codes)
    shift = get_shift(day, definition.pk)
    label = f"Shift {definition.name}, {day.day} {MONTHS_ID[day.month - 1]} {day.year}"
    return Period("shift", shift.starts_at, shift.ends_at, label, f"{day.isoformat()}-{code}", shift.pk)
