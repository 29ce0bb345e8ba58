"""The set-top box's EWS under each profile, driven with transport-stream bytes and a clock of our own."""

from dataclasses import replace

import pytest

from siaga.ews import layout, ts
from siaga.ews.receiver import KEYS, Receiver
from siaga.ews.sections import Location, Message, encode, plan

AREA = (Location("42431", "Pulomerak"), Location("42441", "Ciwandan"))
TSUNAMI = Message(key="tsunami", level="AWAS", disaster_code=2, locations=AREA, text="AWAS TSUNAMI: evakuasi!",
                  order=2)
QUAKE = Message(key="quake", level="WASPADA", disaster_code=1, locations=AREA, text="Gempa M5.2 dirasakan.",
                order=1)


def stream(messages: list[Message], versions: dict[int, int] | int, *, form: str = "mstar",
           service: ts.Service | None = None) -> bytes:
    carousel = ts.Carousel(service or ts.Service(), bitrate=2_000_000, repeat_ms=100)
    carousel.set_sections(encode(plan(messages, form).packages, versions, form))
    return carousel.seconds(0.25)


def air(box: Receiver, messages: list[Message], versions: dict[int, int] | int, now: float, **kw: object) -> None:
    box.feed(stream(messages, versions, **kw), now)  # type: ignore[arg-type]


def test_nothing_is_watched_unless_the_pat_lists_programme_0x038f() -> None:
    box = Receiver("42431", "mstar")
    air(box, [TSUNAMI], 1, 0.0, service=ts.Service(service_id=1))
    assert box.state.watching is False and box.state.overlay == "none"
    air(box, [TSUNAMI], 1, 1.0)
    assert box.state.watching is True and box.state.level == "AWAS"


def test_only_pid_0x0080_is_read_the_pmt_is_not_followed() -> None:
    box = Receiver("42431", "mstar")
    air(box, [TSUNAMI], 1, 0.0, service=ts.Service(ews_pid=0x0200))
    assert box.state.watching is True and box.state.overlay == "none"


def test_mstar_awas_is_a_full_page_with_the_alarm_and_power_still_works() -> None:
    box = Receiver("42441", "mstar")
    air(box, [QUAKE, TSUNAMI], 1, 0.0)
    state = box.state
    assert (state.overlay, state.coverage, state.level, state.sound, state.video_muted) == \
        ("fullscreen", 100, "AWAS", True, True)
    assert state.volume >= 80 and state.text == TSUNAMI.text and state.message["disaster_type"] == ""
    for n, key in enumerate(k for k in KEYS if k != "POWER"):
        assert box.key(key, 1.0 + n) is False and box.state.overlay == "fullscreen"
    assert box.key("POWER", 20.0) is True and box.state.power == "off" and box.state.overlay == "none"
    air(box, [QUAKE, TSUNAMI], 1, 21.0)  # in standby EWS is not watched
    assert box.state.overlay == "none"
    assert box.key("POWER", 22.0) and box.state.overlay == "none"
    air(box, [QUAKE, TSUNAMI], 1, 23.0)  # on again: it comes back
    assert box.state.overlay == "fullscreen"


def test_mstar_siaga_is_a_30_percent_window_and_waspada_a_strip_exit_dismisses() -> None:
    box = Receiver("42431", "mstar")
    air(box, [replace(TSUNAMI, level="SIAGA")], 1, 0.0)
    assert (box.state.overlay, box.state.coverage, box.state.sound, box.state.locked) == ("window", 30, True, True)
    assert box.key("EXIT", 1.0) is False and box.state.overlay == "window"
    other = Receiver("42431", "mstar")
    air(other, [QUAKE], 1, 0.0)
    assert (other.state.overlay, other.state.coverage, other.state.sound) == ("strip", 30, False)
    assert other.key("BACK", 1.0) is False and other.state.overlay == "strip"
    assert other.key("EXIT", 2.0) is True and other.state.overlay == "none"
    air(other, [QUAKE], 1, 3.0)  # the carousel repeats itself: still dismissed
    assert other.state.overlay == "none"
    assert other.key("VOL_UP", 4.0) is True  # the remote works again


def test_mtk_drops_every_key_on_awas_and_any_key_closes_waspada() -> None:
    box = Receiver("42431", "mtk")
    air(box, [TSUNAMI], 1, 0.0, form="mtk")
    assert box.state.overlay == "fullscreen" and box.state.text == TSUNAMI.text
    assert all(box.key(key, 1.0) is False for key in KEYS) and box.state.power == "on"
    strip = Receiver("42431", "mtk")
    air(strip, [QUAKE], 1, 0.0, form="mtk")
    assert strip.state.overlay == "strip" and strip.key("OK", 1.0) and strip.state.overlay == "none"


def test_a_long_message_needs_the_boxs_tmdw_form_a_short_one_reads_in_both() -> None:
    long = replace(TSUNAMI, text="AWAS TSUNAMI. " + "Segera evakuasi ke tempat tinggi. " * 20)
    box = Receiver("42431", "mtk")
    air(box, [long], 1, 0.0, form="mstar")  # an MTK box under an MStar-form head-end: not the text sent
    assert box.state.text != long.text
    box = Receiver("42431", "mtk")
    air(box, [long], 1, 0.0, form="mtk")
    assert box.state.text == long.text
    seed = Receiver("42431", "seed", tmdw_form="mtk")
    air(seed, [long], 1, 0.0, form="mtk")
    assert seed.state.text == long.text
    for profile in ("mstar", "mtk"):  # the compatible form: both read the (short) message
        box = Receiver("42431", profile)
        air(box, [long], 1, 0.0, form="compatible")
        assert box.state.level == "AWAS" and long.text.startswith(box.state.text.removesuffix("..."))


def test_mtk_matches_exact_postcodes_only_mstar_takes_prefixes() -> None:
    wide = replace(TSUNAMI, locations=(Location("42431"),))
    planned = plan([wide])
    prefix = replace(planned.packages[0], locations=(Location("4243"),))
    carousel = ts.Carousel(bitrate=2_000_000, repeat_ms=100)
    for profile, form, expected in (("mstar", "mstar", "fullscreen"), ("mtk", "mtk", "none")):
        carousel.set_sections(encode([prefix], 1, form))
        box = Receiver("42439", profile)
        box.feed(carousel.seconds(0.25), 0.0)
        assert box.state.overlay == expected, profile


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


def test_seed_ticker_is_dismissable_and_a_new_warning_shows_again() -> None:
    box = Receiver("42431")
    air(box, [QUAKE], 1, 0.0)
    assert (box.state.overlay, box.state.level, box.state.sound) == ("ticker", "WASPADA", False)
    assert box.key("BACK", 1.0) is True and box.state.overlay == "none"
    air(box, [QUAKE], 1, 2.0)
    assert box.state.overlay == "none"
    air(box, [replace(QUAKE, text="Gempa M5.4 (diperbarui).")], {1: 1, 2: 1, 3: 2}, 3.0)
    assert box.state.overlay == "none"  # the same warning with a new text: still dismissed
    air(box, [QUAKE, replace(TSUNAMI, level="WASPADA", key="t2", locations=(Location("42431"),))], 2, 4.0)
    assert box.state.overlay == "ticker"  # a new TRDW: the box left and rebuilt what it shows


def test_a_warning_ends_when_a_new_trdw_leaves_it_out() -> None:
    box = Receiver("42431")
    air(box, [QUAKE, TSUNAMI], 1, 0.0)
    assert box.state.level == "AWAS"
    air(box, [QUAKE], 2, 5.0)  # the tsunami has left the carousel: the quake underneath shows
    assert box.state.overlay == "ticker" and box.state.level == "WASPADA"
    air(box, [], 3, 6.0)  # nothing on air
    assert box.state.overlay == "none"


def test_a_text_update_does_not_blink_the_full_screen() -> None:
    changes: list[str] = []
    box = Receiver("42431", "mstar", on_change=lambda state, what: changes.append(state.overlay))
    air(box, [TSUNAMI], 1, 0.0)
    changes.clear()
    air(box, [replace(TSUNAMI, text="AWAS TSUNAMI: gelombang pertama tiba 17:25 WIB.")], {1: 1, 2: 1, 3: 2}, 1.0)
    assert box.state.text.endswith("17:25 WIB.") and set(changes) == {"fullscreen"}


def test_another_area_a_bad_crc_and_a_lost_signal_change_nothing() -> None:
    elsewhere = Receiver("42111")
    air(elsewhere, [TSUNAMI], 1, 0.0)
    assert elsewhere.state.overlay == "none"
    box = Receiver("42431")
    data = bytearray(stream([TSUNAMI], 1))
    for at in range(0, len(data), 188):
        if (data[at + 1] & 0x1F) << 8 | data[at + 2] == layout.PID:
            data[at + 20] ^= 0x40
    box.feed(bytes(data), 0.0)
    assert box.state.overlay == "none" and box.demux.crc_errors > 0
    air(box, [TSUNAMI], 1, 1.0)
    box.tick(3600.0)  # nothing arrives for an hour: the warning stays
    assert box.state.overlay == "fullscreen"


def test_standby_is_woken_by_a_fullscreen_warning_on_the_seed_profile() -> None:
    box = Receiver("42431")
    assert box.key("POWER", 0.0) and box.state.power == "off"
    air(box, [QUAKE], 1, 1.0)
    assert box.state.power == "off" and box.state.overlay == "none"
    assert box.key("POWER", 2.0) and box.state.overlay == "ticker"  # the pending notice shows on power-on
    assert box.key("POWER", 3.0) and box.state.power == "off"
    air(box, [QUAKE, TSUNAMI], 2, 4.0)
    assert box.state.power == "on" and box.state.overlay == "fullscreen"


def test_unknown_profiles_postcodes_and_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown profile"):
        Receiver("42431", "lg")
    with pytest.raises(ValueError, match="five-digit"):
        Receiver("4243")
    with pytest.raises(ValueError, match="unknown key"):
        Receiver("42431").key("HOME", 0.0)
