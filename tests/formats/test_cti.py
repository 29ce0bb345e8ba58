"""CTI payload validation: what is accepted, what is refused and how the refusal names the field."""

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siaga.formats import cti

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
GOOD = {"event_id": "e-1", "type": "call.offered", "call_id": "1732771200.42",
        "occurred_at": "2026-11-28T05:59:58Z", "caller": "081234567890", "line": "112"}


def test_valid_event() -> None:
    event = cti.validate(GOOD, NOW)
    assert event.type == "call.offered"
    assert event.occurred_at == datetime(2026, 11, 28, 5, 59, 58, tzinfo=UTC)
    assert event.caller == "081234567890"


def test_offset_times_are_converted_to_utc() -> None:
    event = cti.validate({**GOOD, "occurred_at": "2026-11-28T12:59:58+07:00"}, NOW)
    assert event.occurred_at == datetime(2026, 11, 28, 5, 59, 58, tzinfo=UTC)


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"type": "call.exploded"}, "type", "unknown"),
    ({"type": None}, "type", "required"),
    ({"event_id": ""}, "event_id", "empty"),
    ({"event_id": "x" * 200}, "event_id", "at most 128"),
    ({"call_id": None}, "call_id", "required"),
    ({"occurred_at": "2026-11-28T05:59:58"}, "occurred_at", "no time zone"),
    ({"occurred_at": "yesterday"}, "occurred_at", "not an ISO 8601"),
    ({"occurred_at": "1999-12-31T23:00:00Z"}, "occurred_at", "before 2000"),
    ({"occurred_at": "2026-11-28T09:00:00Z"}, "occurred_at", "future"),
    ({"occurred_at": 1732771200}, "occurred_at", "ISO 8601"),
    ({"caller": ["0812"]}, "caller", "string"),
    ({"line": "L" * 100}, "line", "at most 64"),
    ({"caller": "0812\x00"}, "caller", "control"),
])
def test_refusals_name_the_field(change: dict, field: str, words: str) -> None:
    with pytest.raises(cti.CtiError) as err:
        cti.validate({**GOOD, **change}, NOW)
    assert err.value.field == field
    assert words in err.value.message


def test_transfer_needs_target() -> None:
    with pytest.raises(cti.CtiError, match="target is required"):
        cti.validate({**GOOD, "type": "call.transferred"}, NOW)


def test_body_must_be_an_object() -> None:
    with pytest.raises(cti.CtiError, match="JSON object"):
        cti.parse(b"[1, 2]", NOW)
    with pytest.raises(cti.CtiError, match="not valid JSON"):
        cti.parse(b'{"event_id": ', NOW)


def test_unknown_keys_are_kept() -> None:
    event = cti.validate({**GOOD, "queue": "112-main"}, NOW)
    assert event.extra == {"queue": "112-main"}


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_bytes(body: bytes) -> None:
    with contextlib.suppress(cti.CtiError):
        cti.parse(body, NOW)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from(["event_id", "type", "call_id", "occurred_at", "caller", "line", "agent",
                                        "target", "cause", "x"]), json_values, max_size=9))
def test_fuzz_objects(data: dict) -> None:
    try:
        event = cti.validate(data, NOW)
    except cti.CtiError as exc:
        assert exc.message
        return
    assert event.type in cti.EVENT_TYPES
    assert event.occurred_at.tzinfo is not None
    json.dumps(data)  # accepted events are storable as JSON
