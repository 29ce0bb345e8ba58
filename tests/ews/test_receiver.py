"""The receiver's state machine under each profile, driven with sections and a clock of our own."""

from dataclasses import replace

import pytest

from siaga.ews.receiver import KEYS, RESYNC_SECONDS, Receiver
from siaga.ews.sections import Location, Message, encode

AREA = (Location("42431", "Pulomerak"), Location("42441", "Ciwandan"))
TSUNAMI = Message(package_id=3, level="AWAS", disaster_code=2, locations=AREA, text="AWAS TSUNAMI: evakuasi!")
QUAKE = Message(package_id=4, level="WASPADA", disaster_code=1, locations=AREA, text="Gempa M5.2 dirasakan.")


def air(box: Receiver, messages: list[Message], version: int, now: float, repeats: int = 2) -> None:
    for _ in range(repeats):
        for section in encode(messages, version):
            box.section(section, now)


def test_seed_ticker_is_dismissable_and_stays_dismissed() -> None:
    box = Receiver("42431")
    air(box, [QUAKE], 1, 0.0)
    assert (box.state.overlay, box.state.level, box.state.sound) == ("ticker", "WASPADA", False)
    assert box.state.text == QUAKE.text and box.state.alert_id == 4
    assert box.key("BACK", 1.0) is True and box.state.overlay == "none"
    air(box, [QUAKE], 1, 2.0)  # the carousel repeats itself: still dismissed
    assert box.state.overlay == "none"
    air(box, [replace(QUAKE, text="Gempa M5.4 (diperbarui).")], 2, 3.0)  # new content comes back
    assert box.state.overlay == "ticker" and "diperbarui" in box.state.text


def test_seed_fullscreen_ignores_every_key_and_only_the_mains_clears_it() -> None:
    box = Receiver("42441")
    air(box, [QUAKE, TSUNAMI], 1, 0.0)
    state = box.state
    assert (state.overlay, state.level, state.sound, state.locked) == ("fullscreen", "AWAS", True, True)
    for n, key in enumerate(KEYS):
        assert box.key(key, 1.0 + n) is False
        assert box.state.overlay == "fullscreen" and box.state.power == "on"
    assert box.state.ignored_keys == len(KEYS)
    box.mains(False, 20.0)
    assert (box.state.power, box.state.overlay, box.state.sound) == ("off", "none", False)
    air(box, [TSUNAMI], 1, 21.0)  # no power: nothing is received
    assert box.state.overlay == "none"
    box.mains(True, 22.0)
    assert box.state.overlay == "none"  # nothing received yet
    air(box, [QUAKE, TSUNAMI], 1, 22.3)  # still on air: it comes back
    assert box.state.overlay == "fullscreen"


def test_an_end_on_air_clears_it_and_the_ticker_below_shows_again() -> None:
    box = Receiver("42431")
    air(box, [QUAKE, TSUNAMI], 1, 0.0)
    air(box, [QUAKE, replace(TSUNAMI, level="END", text="BERAKHIR")], 2, 5.0)
    assert box.state.overlay == "ticker" and box.state.alert_id == 4


def test_another_area_a_bad_crc_and_an_old_version_change_nothing() -> None:
    elsewhere = Receiver("42111")
    air(elsewhere, [TSUNAMI], 1, 0.0)
    assert elsewhere.state.overlay == "none"

    box = Receiver("42431")
    for section in encode([TSUNAMI], 1):
        broken = bytearray(section)
        broken[10] ^= 0x40
        box.section(bytes(broken), 0.0)
    assert box.state.overlay == "none" and box.reader.rejected == 3

    air(box, [TSUNAMI], 6, 1.0)
    air(box, [replace(TSUNAMI, level="END")], 7, 2.0)
    assert box.state.overlay == "none"
    air(box, [TSUNAMI], 6, 3.0)  # a stale repeat of the version before the END
    assert box.state.overlay == "none" and box.state.version == 7


def test_an_older_version_alone_on_air_is_taken_after_a_while() -> None:
    """A head-end restarted without its version counter: its sections look old, but when they are all that is
    on air for RESYNC_SECONDS they are the truth (a tsunami warning must not be missed for a counter)."""
    box = Receiver("42431")
    air(box, [QUAKE], 20, 0.0)
    air(box, [TSUNAMI], 10, 1.0)  # (10 - 20) mod 32 = 22: behind
    assert box.state.overlay == "ticker"
    for step in range(int(RESYNC_SECONDS * 4) + 2):
        air(box, [TSUNAMI], 10, 1.0 + step * 0.25, repeats=1)
    assert box.state.overlay == "fullscreen"


def test_standby_is_woken_by_a_fullscreen_warning_but_not_by_a_ticker() -> None:
    box = Receiver("42431")
    assert box.key("POWER", 0.0) and box.state.power == "off"
    air(box, [QUAKE], 1, 1.0)
    assert box.state.power == "off" and box.state.overlay == "none"
    assert box.key("POWER", 2.0) and box.state.overlay == "ticker"  # the pending notice shows on power-on
    assert box.key("POWER", 3.0) and box.state.power == "off"
    air(box, [QUAKE, TSUNAMI], 2, 4.0)
    assert box.state.power == "on" and box.state.overlay == "fullscreen"


def test_kominfo2024_windows_close_after_30_s_and_awas_stays() -> None:
    box = Receiver("42431", "kominfo2024")
    air(box, [replace(QUAKE, level="SIAGA")], 1, 0.0)
    assert (box.state.overlay, box.state.coverage, box.state.sound) == ("window", 30, True)
    box.tick(29.0)
    assert box.state.overlay == "window"
    box.tick(30.5)
    assert box.state.overlay == "none"
    air(box, [TSUNAMI], 2, 31.0)
    box.tick(500.0)
    assert box.state.overlay == "fullscreen" and box.key("EXIT", 501.0) is False


def test_mtk_siaga_is_a_90_percent_window_with_a_tone_that_can_be_closed() -> None:
    box = Receiver("42431", "mtk")
    air(box, [replace(TSUNAMI, level="SIAGA")], 1, 0.0)
    assert (box.state.overlay, box.state.coverage, box.state.sound, box.state.locked) == ("window", 90, True, False)
    assert box.key("EXIT", 1.0) and box.state.overlay == "none"
    air(box, [TSUNAMI], 2, 2.0)
    assert box.state.overlay == "fullscreen" and box.state.locked


def test_the_most_severe_warning_wins_and_a_lost_signal_does_not_end_it() -> None:
    box = Receiver("42431")
    air(box, [TSUNAMI], 1, 0.0)
    air(box, [QUAKE], 2, 1.0)  # the tsunami vanished without an END (a fault upstream): it stays
    assert box.state.overlay == "fullscreen" and box.state.alert_id == 3


def test_unknown_profiles_and_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown profile"):
        Receiver("42431", "lg")
    with pytest.raises(ValueError, match="unknown key"):
        Receiver("42431").key("HOME", 0.0)
