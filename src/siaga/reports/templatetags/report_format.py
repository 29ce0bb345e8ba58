"""Formatting for report numbers: percentages, durations, shares."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def percent(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


@register.filter
def duration(seconds: Any) -> str:
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} dtk"
    if seconds < 5400:
        return f"{seconds / 60:.1f} mnt"
    return f"{seconds / 3600:.1f} jam"


@register.filter
def share(value: Any, total: Any) -> str:
    try:
        return f"{int(value) * 100 / int(total):.1f} %" if int(total) else "—"
    except (TypeError, ValueError):
        return "—"
