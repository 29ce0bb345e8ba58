"""What no database stores as sent, found in decoded JSON before anything is written (pure, no Django).

PostgreSQL refuses NUL in text and lone surrogates (they are not UTF-8); no column holds NaN, infinity or an
integer beyond 64 bits; JSON nested without bound is a way to exhaust a server. Both the CTI lane and the
API's JSON parser ask :func:`first_unstorable`, so a PBX and any other client get the same 4xx, naming the
field, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import math
from typing import Any


def first_unstorable(value: Any, path: str = "", max_depth: int | None = None) -> tuple[str, str] | None:
    """``(field, what is wrong)`` for the first value in ``value`` that cannot be stored as sent, or None.

    ``field`` is the top-level name the value sits under ("" for the value itself); the message names the
    whole path (``note``, ``extra.list[2]``, ``extra.<key>`` for a dictionary key). Depth counts from
    ``value`` (0): its items are at depth 1."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        field, said = where.split(".")[0].split("[")[0], where or "the body"
        if max_depth is not None and depth > max_depth:
            return field, f"{said} is nested more than {max_depth} levels deep"
        if isinstance(item, str):
            if "\x00" in item:
                return field, f"{said} contains a NUL control character"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return field, f"{said} contains a lone surrogate (not UTF-8)"
        elif isinstance(item, float) and not math.isfinite(item):
            return field, f"{said} is not a finite number"
        elif isinstance(item, int) and not isinstance(item, bool) and not -(2**63) <= item < 2**63:
            return field, f"{said} is a number beyond 64 bits"
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):  # the stack pops them in the order they were sent
                stack.append((inner, f"{where}.{key}".lstrip(".")[:120], depth + 1))
                stack.append((key, f"{where}.<key>".lstrip("."), depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, f"{where}[{n}]", depth + 1) for n, inner in reversed(list(enumerate(item))))
    return None
