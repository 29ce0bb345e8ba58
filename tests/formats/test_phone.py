import pytest

from siaga.formats import phone


@pytest.mark.parametrize(("raw", "e164"), [
    ("081234567890", "+6281234567890"),
    ("+62 812-3456-7890", "+6281234567890"),
    ("6281234567890", "+6281234567890"),
    ("006281234567890", "+6281234567890"),
    ("(0254) 391234", "+62254391234"),
    ("sip:081234567890@pbx.local", "+6281234567890"),
])
def test_normalise(raw: str, e164: str) -> None:
    assert phone.normalise(raw).e164 == e164


@pytest.mark.parametrize("raw", ["", "anonymous", "Unknown", "<unknown>", None, "restricted"])
def test_withheld(raw: str | None) -> None:
    number = phone.normalise(raw)
    assert number.withheld and number.e164 is None


def test_garbage_is_kept_raw_not_refused() -> None:
    number = phone.normalise("12")
    assert not number.withheld and number.e164 is None and number.raw == "12"
    assert phone.normalise_or_raw("12") == "12"
