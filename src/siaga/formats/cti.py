"""CTI events: the JSON a PBX posts to ``/api/v1/cti/events``.

::

    {"event_id": "ast-1732771200.42-offered", "type": "call.offered", "call_id": "1732771200.42",
     "occurred_at": "2026-11-28T06:00:00Z", "caller": "081234567890", "line": "112-1"}

``event_id`` is unique per PBX and makes retries harmless; ``call_id`` ties the events of one call
together; ``occurred_at`` is when the PBX saw it (with a time zone, always). ``answered`` may name the
``agent`` (username or extension), ``transferred`` names the ``target``, ``ended`` may give a ``cause``.
Unknown extra keys are kept but not interpreted.

Every body is either stored or refused with a 4xx naming what is wrong, never a 5xx (a PBX retries those
forever): JSON numbers must be finite (no NaN, Infinity or 1e400), nesting at most :data:`MAX_DEPTH` deep,
strings free of NUL and of lone surrogates (no database can store them), times inside the years a clock
can hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from siaga.formats.errors import FormatError
from siaga.formats.storable import first_unstorable

EVENT_TYPES = ("call.offered", "call.answered", "call.transferred", "call.ended")
MAX_BODY = 16 * 1024
_ID_MAX = 128
_TEXT_MAX = {"caller": 64, "line": 64, "agent": 64, "target": 64, "cause": 64}
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_FUTURE = timedelta(hours=1)
MAX_DEPTH = 8  # objects and lists inside the event (the event itself is depth 1)


class CtiError(FormatError):
    """A CTI event that cannot be stored as sent."""


@dataclass(frozen=True, slots=True)
class CtiEvent:
    """One validated CTI event."""

    event_id: str
    type: str
    call_id: str
    occurred_at: datetime
    caller: str | None = None
    line: str | None = None
    agent: str | None = None
    target: str | None = None
    cause: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _ident(data: dict[str, Any], name: str) -> str:
    if name not in data or data[name] is None:
        raise CtiError(f"{name} is required", name)
    value = data[name]
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise CtiError(f"{name} must be a string", name)
    value = value.strip()
    if not value:
        raise CtiError(f"{name} must not be empty", name)
    if len(value) > _ID_MAX:
        raise CtiError(f"{name} is {len(value)} characters; at most {_ID_MAX}", name)
    if not value.isprintable():
        raise CtiError(f"{name} contains control characters", name)
    return value


def parse_time(value: Any, name: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 time with a zone, not before 2000 and not more than an hour in the future."""
    if not isinstance(value, str):
        raise CtiError(f"{name} must be an ISO 8601 string with a time zone, e.g. 2026-11-28T06:00:00Z", name)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise CtiError(f"{name}={value[:40]!r} is not an ISO 8601 time", name) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise CtiError(f"{name}={value[:40]!r} has no time zone; add Z or +07:00", name)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:
        raise CtiError(f"{name}={value[:40]!r} is outside the years a clock can hold", name) from None
    if parsed < EARLIEST:
        raise CtiError(f"{name}={value[:40]!r} is before 2000", name)
    reference = now or datetime.now(UTC)
    if parsed > reference + MAX_FUTURE:
        raise CtiError(f"{name}={value[:40]!r} is more than an hour in the future; check the PBX clock", name)
    return parsed


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise CtiError(f"{name} must be a string", name)
    value = value.strip()
    limit = _TEXT_MAX[name]
    if len(value) > limit:
        raise CtiError(f"{name} is {len(value)} characters; at most {limit}", name)
    if not value.isprintable():
        raise CtiError(f"{name} contains control characters", name)
    return value or None


def loads(body: bytes | str) -> Any:
    """The body's JSON. NaN, Infinity and numbers beyond a double are read here and refused by
    :func:`validate` with the field they are in; nesting deeper than Python can follow is a
    :class:`CtiError` here."""
    try:
        return json.loads(body)
    except RecursionError:
        raise CtiError("the body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CtiError(f"the body is not valid JSON: {exc}") from None


def validate(data: Any, now: datetime | None = None) -> CtiEvent:
    """Validate a decoded JSON object as a CTI event."""
    if not isinstance(data, dict):
        raise CtiError("the body must be a JSON object")
    problem = first_unstorable(data, max_depth=MAX_DEPTH)
    if problem is not None:
        raise CtiError(problem[1], problem[0])
    kind = data.get("type")
    if kind is None:
        raise CtiError("type is required", "type")
    if kind not in EVENT_TYPES:
        raise CtiError(f"type {str(kind)[:40]!r} is unknown; expected one of {', '.join(EVENT_TYPES)}", "type")
    event = CtiEvent(
        event_id=_ident(data, "event_id"),
        type=kind,
        call_id=_ident(data, "call_id"),
        occurred_at=parse_time(data.get("occurred_at"), "occurred_at", now),
        caller=_text(data, "caller"),
        line=_text(data, "line"),
        agent=_text(data, "agent"),
        target=_text(data, "target"),
        cause=_text(data, "cause"),
        extra={k: v for k, v in data.items() if k not in {
            "event_id", "type", "call_id", "occurred_at", "caller", "line", "agent", "target", "cause"}},
    )
    if event.type == "call.transferred" and not event.target:
        raise CtiError("target is required for call.transferred", "target")
    return event


def parse(body: bytes | str, now: datetime | None = None) -> CtiEvent:
    """Decode and validate a request body."""
    if len(body) > MAX_BODY:
        raise CtiError(f"the body is {len(body)} bytes; at most {MAX_BODY}")
    return validate(loads(body), now)
