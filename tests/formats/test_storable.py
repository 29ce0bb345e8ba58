"""formats.storable: what no database stores as sent, named by its field."""

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from siaga.formats.storable import first_unstorable

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20)


def _clean(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**63) <= value < 2**63
    if isinstance(value, dict):
        return all(_clean(k) and _clean(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_clean(v) for v in value)
    return True


@given(VALUES)
def test_a_value_is_refused_exactly_when_something_in_it_cannot_be_stored(value: Any) -> None:
    found = first_unstorable({"x": value})
    assert (found is None) == _clean(value)
    if found is None:
        json.dumps(value, allow_nan=False).encode("utf-8")  # and it really can be written
    else:
        assert found[0] == "x" and found[1].startswith("x")


def test_each_kind_is_named() -> None:
    assert first_unstorable({"a": {"b": ["ok", "n\x00"]}}) == ("a", "a.b[1] contains a NUL control character")
    assert first_unstorable({"k\x00": 1}) == ("<key>", "<key> contains a NUL control character")
    assert first_unstorable({"n": float("nan")})[1] == "n is not a finite number"  # type: ignore[index]
    assert first_unstorable({"n": 2**63})[1] == "n is a number beyond 64 bits"  # type: ignore[index]
    assert first_unstorable({"n": 2**63 - 1}) is None and first_unstorable({"n": -(2**63)}) is None
    assert first_unstorable({"d": [[[1]]]}, max_depth=2) == ("d", "d[0][0] is nested more than 2 levels deep")
    assert first_unstorable("\ud800") == ("", "the body contains a lone surrogate (not UTF-8)")
