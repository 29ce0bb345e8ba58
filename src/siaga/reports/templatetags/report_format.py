"""Formatting for report numbers and names: percentages, durations, shares, and the names behind codes.

Numbers follow the language being rendered: Indonesian writes a decimal comma ("22,2 %"), English a
decimal point. Codes in the report data (call tags, category and agency codes) are shown by their names.
"""

from typing import Any

from django import template
from django.utils import translation
from django.utils.translation import gettext as _

register = template.Library()


def _decimal(text: str) -> str:
    return text.replace(".", ",") if (translation.get_language() or "id").startswith("id") else text


@register.filter
def percent(value: Any) -> str:
    return "—" if value is None else _decimal(f"{value * 100:.1f} %")


@register.filter
def duration(seconds: Any) -> str:
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} {_('dtk')}"
    if seconds < 5400:
        return _decimal(f"{seconds / 60:.1f} {_('mnt')}")
    return _decimal(f"{seconds / 3600:.1f} {_('jam')}")


@register.filter
def share(value: Any, total: Any) -> str:
    try:
        return _decimal(f"{int(value) * 100 / int(total):.1f} %") if int(total) else "—"
    except (TypeError, ValueError):
        return "—"


@register.filter
def name_of(code: Any, names: dict[str, str]) -> str:
    """The name of a code in ``names`` (see ``export.names``), the code itself when it has none."""
    return names.get(str(code), str(code)) if isinstance(names, dict) else str(code)
