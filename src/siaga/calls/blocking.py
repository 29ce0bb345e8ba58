"""The staged blocking policy for prank and ghost callers.

Each call tagged with a counted outcome (SIAGA_BLOCK_OUTCOMES, default prank and ghost) is a strike.
Strike *n* applies stage *n* of SIAGA_BLOCK_STAGES (default ``warn,24h,3d,permanent``); strikes past the
last stage repeat the last one. Strikes count within SIAGA_BLOCK_WINDOW_DAYS and only since the last
time a supervisor lifted a sanction for that number, so a lifted block gives the caller a clean start.

A block is advice to the PBX (``GET /api/v1/blocklist``): the PBX decides how to treat a blocked number
(a recorded warning, a queue at the lowest priority). Calls from blocked numbers are still logged here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_DURATION = re.compile(r"^(\d+)\s*(m|h|d|w)$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Stage:
    label: str  # as configured: "warn", "24h", "permanent"
    is_block: bool
    duration: timedelta | None  # None with is_block = permanent


def parse_stage(text: str) -> Stage:
    value = text.strip().lower()
    if value in ("warn", "warning", "peringatan"):
        return Stage("warn", False, None)
    if value in ("permanent", "permanen", "forever"):
        return Stage("permanent", True, None)
    match = _DURATION.match(value)
    if not match or int(match.group(1)) == 0:
        raise ImproperlyConfigured(
            f"SIAGA_BLOCK_STAGES: {text!r} is not a stage; use warn, permanent or a duration like 30m, 24h, 3d, 2w."
        )
    amount, unit = int(match.group(1)), match.group(2)
    return Stage(value, True, timedelta(**{_UNITS[unit]: amount}))


@lru_cache(maxsize=4)
def _stages(config: tuple[str, ...]) -> tuple[Stage, ...]:
    if not config:
        raise ImproperlyConfigured("SIAGA_BLOCK_STAGES is empty; give at least one stage, e.g. warn,24h,3d,permanent.")
    return tuple(parse_stage(item) for item in config)


def stages() -> tuple[Stage, ...]:
    return _stages(tuple(settings.BLOCK_STAGES))


def stage_for_strike(strike: int) -> Stage:
    """The stage applied on the ``strike``-th counted call (1-based)."""
    configured = stages()
    return configured[min(strike, len(configured)) - 1]


def counted_outcomes() -> frozenset[str]:
    return frozenset(settings.BLOCK_OUTCOMES)
