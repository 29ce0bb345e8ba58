"""SMS text: the GSM 03.38 alphabet, UCS-2 only when a character demands it, and how many parts a text takes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siaga.formats import gsm


def test_one_part_holds_160_septets_then_153_a_part() -> None:
    assert gsm.fit("a" * 160) == gsm.Fitted("a" * 160, "gsm7", 160, 1)
    assert gsm.fit("a" * 161).parts == 2
    assert gsm.fit("a" * 306).parts == 2 and gsm.fit("a" * 307).parts == 3
    assert gsm.fit("a" * 459).parts == 3 and gsm.fit("a" * 460).parts == 4


def test_an_extension_character_takes_two_septets_and_is_never_cut_between_parts() -> None:
    assert gsm.fit("€" * 80).units == 160 and gsm.fit("€" * 80).parts == 1
    assert gsm.fit("€" * 81).parts == 2
    # 152 septets then "[" (two): it cannot straddle the end of part one, so it opens part two
    fitted = gsm.fit("a" * 152 + "[" + "a" * 152)
    assert fitted.units == 306 and fitted.parts == 3


def test_ucs2_only_when_a_character_demands_it() -> None:
    assert gsm.fit("Awas tsunami! Segera ke tempat tinggi.").encoding == "gsm7"
    # typography as typed on a keypad, letters with accents: kept when in the alphabet (é, ñ), else the base letter
    dash = "\u2013"
    assert gsm.fit(f"Jalan “Lingkar” {dash} Café ñ á").encoding == "gsm7"
    assert gsm.fit(f"Jalan “Lingkar” {dash} Café ñ á").text == 'Jalan "Lingkar" - Café ñ a'
    chinese = gsm.fit("危险 " * 23)
    assert (chinese.encoding, chinese.units, chinese.parts) == ("ucs2", 69, 1)
    assert gsm.fit("危险 " * 24).parts == 2  # 72 units: 67 a part
    emoji = gsm.fit("🌊" * 34)  # a surrogate pair is two units and stays whole
    assert (emoji.units, emoji.parts) == (68, 1)
    assert gsm.fit("🌊" * 35).parts == 1 and gsm.fit("🌊" * 36).parts == 2  # 70 units fit one part


def test_require_refuses_with_the_count() -> None:
    with pytest.raises(gsm.TooLong) as refused:
        gsm.require("kata " * 120, 3)
    assert refused.value.parts == 4 and "4 parts" in str(refused.value) and "at most 3" in str(refused.value)
    assert gsm.require("pendek", 1).parts == 1


def test_shorten_cuts_at_a_word_and_keeps_the_tail_whole() -> None:
    text = "Segera menjauh dari pantai " * 30
    tail = " Info: https://siaga112.cilegon.go.id/peringatan/123/"
    short = gsm.shorten(text, 3, tail)
    assert short.endswith("..." + tail) and gsm.fit(short).parts == 3
    assert gsm.shorten("pendek", 3, tail) == "pendek" + tail


@given(st.text(max_size=800))
def test_property_fit_is_consistent(text: str) -> None:
    fitted = gsm.fit(text)
    assert fitted.encoding in ("gsm7", "ucs2")
    if fitted.encoding == "gsm7":
        assert gsm.is_gsm(fitted.text)
        limit = gsm.SINGLE_SEPTETS if fitted.parts <= 1 else gsm.PART_SEPTETS * fitted.parts
    else:
        limit = gsm.SINGLE_UNITS if fitted.parts <= 1 else gsm.PART_UNITS * fitted.parts
    assert fitted.units <= limit
    assert (fitted.parts == 0) == (fitted.text == "")


@given(st.text(max_size=1500), st.sampled_from(["", " -Siaga112", " Info: https://x.go.id/l/abcdefgh"]),
       st.integers(min_value=1, max_value=3))
def test_property_shorten_always_fits_and_keeps_its_tail(text: str, tail: str, parts: int) -> None:
    short = gsm.shorten(text, parts, tail)
    assert short.endswith(tail) and gsm.fit(short).parts <= parts
