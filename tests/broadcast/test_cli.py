"""`siaga ews encode|from-cap|decode` and `siaga stb`'s HTTP API, as a user runs them."""

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import CommandError, call_command

from siaga.broadcast.stb import SetTopBox, StbHttpServer
from siaga.ews import ts
from siaga.ews.sections import Location, Message, encode_messages
from tests import clock
from tests.alerts.conftest import udp_port
from tests.datafiles import CAP_EXAMPLES
from tests.ews.vendor_reader import shows


@pytest.fixture(autouse=True)
def english() -> Any:
    """The commands called in this process speak English here (their default, Bahasa Indonesia, is tested
    with the set-top box's log below and in tests/calls/test_cli.py)."""
    from django.utils import translation

    with translation.override("en"):
        yield


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The command in English (--lang en): these tests read what it says; Bahasa Indonesia is the default."""
    return subprocess.run([*clock.siaga(), *args, "--lang", "en"], capture_output=True, text=True, timeout=60,
                          check=False)


def test_encode_then_decode(tmp_path: Path) -> None:
    out = tmp_path / "awas.ts"
    done = run("ews", "encode", "--level", "AWAS", "--disaster", "02", "--postcodes", "42431,42435",
               "--message", "AWAS TSUNAMI: segera evakuasi", "--position", "6.85 LS 105.22 BT",
               "--date", "28-11-2026 17:05 WIB", "--seconds", "1.5", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size % 188 == 0
    decoded = run("ews", "decode", str(out))
    assert decoded.returncode == 0, decoded.stderr
    [item] = [json.loads(line) for line in decoded.stdout.splitlines()]
    assert (item["level"], item["disaster_code"], item["postcodes"], item["authority"], item["versions"]) == \
        ("AWAS", "02", ["42431", "42435"], "BMKG", {"TRDW": 0, "TCDW": 0, "TMDW": 0})
    assert item["message"] == "AWAS TSUNAMI: segera evakuasi" and item["position"] == "6.85 LS 105.22 BT"
    assert "1 package(s)" in done.stderr and "no programme" not in decoded.stderr


def test_a_city_wide_warning_is_split_into_packages_and_a_long_message_shortened(tmp_path: Path) -> None:
    codes = [f"424{n}" for n in (11, 12, 13, 14, 15, 16, 17, 18, 19, 22, 23, 24)]
    out = tmp_path / "city.ts"
    done = run("ews", "encode", "--level", "AWAS", "--disaster", "02", "--postcodes", ",".join(codes),
               "--message", "Segera evakuasi ke tempat tinggi. " * 200, "--out", str(out), "--tmdw-form", "mtk")
    assert done.returncode == 0, done.stderr
    assert "3 package(s), 12 location(s)" in done.stderr and "message shortened" in done.stderr
    items = [json.loads(line) for line in run("ews", "decode", str(out), "--tmdw-form", "mtk").stdout.splitlines()]
    assert [len(i["postcodes"]) for i in items] == [5, 5, 2]
    assert sorted(code for i in items for code in i["postcodes"]) == codes
    assert all(i["message"].endswith("...") for i in items)


@pytest.mark.parametrize(("args", "words"), [
    (["--disaster", "99"], "not a known disaster code"),
    (["--disaster", "zz"], "hex code"),
    (["--postcodes", "4243"], "five digits"),
    (["--level", "END"], "invalid choice"),
    (["--pid", "0x90"], "invalid choice"),
])
def test_encode_refuses_with_a_clear_message(tmp_path: Path, args: list[str], words: str) -> None:
    base = {"--level": "AWAS", "--disaster": "02", "--postcodes": "42431", "--message": "x"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [x for pair in base.items() for x in pair]
    with pytest.raises(CommandError, match=words):
        call_command("ews", "encode", *flat, "--out", str(tmp_path / "x.ts"))
    assert not (tmp_path / "x.ts").exists()


@pytest.mark.django_db
def test_from_cap_of_a_real_alert_and_a_cap_without_postcodes(tmp_path: Path, reference: None) -> None:
    from siaga.alerts.actions import preview
    from siaga.formats import feeds
    from siaga.hazards.replay import scenario

    readings = feeds.read(scenario("autogempa_drill_selat_sunda_m7_tsunami.json"), "autogempa")
    xml = preview(readings[0], exercise=True)
    assert xml is not None
    (tmp_path / "alert.xml").write_bytes(xml)
    call_command("ews", "from-cap", str(tmp_path / "alert.xml"), "--out", str(tmp_path / "a.ts"), "--seconds", "1")
    from siaga.broadcast.management.commands.ews import decode

    items = decode((tmp_path / "a.ts").read_bytes())
    codes = [code for i in items for code in i["postcodes"]]
    assert len(items) == 6 and len(codes) == len(set(codes)) == 29  # 29 postcodes, each once
    item = next(i for i in items if "42431" in i["postcodes"])
    assert item["level"] == "AWAS" and item["disaster_code"] == "02"
    assert item["message"].startswith("[LATIHAN] AWAS TSUNAMI") and item["characteristic"].startswith("LATIHAN")
    assert item["position"] == "6.85 LS 105.22 BT"
    # another sender's CAP (the OASIS Amber Alert) names no Indonesian postcode: refused, with the reason
    with pytest.raises(CommandError, match=r"POSTCODE|info"):
        call_command("ews", "from-cap", str(CAP_EXAMPLES / "oasis_cap12_spec_example_amber_alert.xml"),
                     "--out", str(tmp_path / "b.ts"))


def test_encode_into_a_video_gives_a_programme_with_the_warning_beside_it(tmp_path: Path) -> None:
    from tests.ews.test_ts import ffmpeg_video, tool

    video = ffmpeg_video(tmp_path / "pattern.ts")
    args = ["ews", "encode", "--level", "SIAGA", "--disaster", "01", "--postcodes", "42431",
            "--message", "Gempa M6.1 dirasakan kuat", "--video", str(video)]
    done = run(*args, "--out", str(tmp_path / "mixed.ts"))
    assert done.returncode == 0, done.stderr
    mixed = (tmp_path / "mixed.ts").read_bytes()
    assert len(mixed) == video.stat().st_size  # the video's length and bitrate, its nulls carrying the warning
    probe = subprocess.run([tool("ffprobe"), "-v", "error", "-show_programs", "-of", "json",
                            str(tmp_path / "mixed.ts")], capture_output=True, text=True, check=True)
    programmes = {p["program_num"]: p for p in json.loads(probe.stdout)["programs"]}
    assert set(programmes) == {1, 0x038F}
    assert {s["id"]: s.get("codec_tag") for s in programmes[0x038F]["streams"]} == {"0x80": "0x0005"}
    assert "mpeg2video" in {s.get("codec_name") for s in programmes[1]["streams"]}
    decoded = run("ews", "decode", str(tmp_path / "mixed.ts"))
    [item] = [json.loads(line) for line in decoded.stdout.splitlines()]
    assert (item["level"], item["message"], item["pid"]) == ("SIAGA", "Gempa M6.1 dirasakan kuat", 0x80)
    assert shows(mixed, ["42431", "42441"]) == {"42431": "SIAGA", "42441": None}  # as real receivers read it
    clash = ffmpeg_video(tmp_path / "clash.ts", "-mpegts_start_pid", "0x80")
    refused = run(*args[:-1], str(clash), "--out", str(tmp_path / "x.ts"))
    assert refused.returncode == 1 and "already uses PID 0x0080" in refused.stderr and "--pid" in refused.stderr
    assert not (tmp_path / "x.ts").exists()
    moved = run(*args[:-1], str(clash), "--pid", "0x038F", "--out", str(tmp_path / "y.ts"))
    assert moved.returncode == 0, moved.stderr
    assert json.loads(run("ews", "decode", str(tmp_path / "y.ts"), "--pid", "0x038F").stdout)["pid"] == 0x038F


def test_decode_says_when_no_box_would_watch(tmp_path: Path) -> None:
    carousel = ts.Carousel(ts.Service(service_id=1))
    carousel.set_sections(encode_messages([Message(key="x", level="AWAS", disaster_code=2,
                                                   locations=(Location("42431"),), text="AWAS")], 0))
    (tmp_path / "old.ts").write_bytes(carousel.seconds(1.0))
    done = run("ews", "decode", str(tmp_path / "old.ts"))
    assert done.returncode == 0 and "lists no programme 0x038F" in done.stderr


def test_decode_refuses_what_is_not_a_transport_stream(tmp_path: Path) -> None:
    (tmp_path / "x.ts").write_bytes(b"<html>not a stream</html>" * 20)
    with pytest.raises(CommandError, match="not an MPEG transport stream"):
        call_command("ews", "decode", str(tmp_path / "x.ts"))


@pytest.fixture
def screen() -> Any:
    box = SetTopBox("42431")
    server = StbHttpServer(box)
    server.start()
    yield box, server
    server.shutdown()


def test_stb_http_api(screen: Any) -> None:
    box, server = screen
    page = httpx.get(server.url + "/")
    assert page.status_code == 200 and "Emulator Set-Top Box" in page.text
    assert httpx.get(server.url + "/state").json()["overlay"] == "none"
    message = Message(key="t", level="AWAS", disaster_code=2, locations=(Location("42431"),), text="AWAS TSUNAMI")
    carousel = ts.Carousel()
    carousel.set_sections(encode_messages([message], 1))
    box.feed(carousel.seconds(0.5))
    state = httpx.get(server.url + "/state").json()
    assert (state["overlay"], state["level"], state["sound"], state["alert_id"]) == ("fullscreen", "AWAS", "playing", 1)
    sound = httpx.get(server.url + "/sound.wav", timeout=60)
    assert sound.status_code == 200 and sound.content[:4] == b"RIFF" and len(sound.content) > 16_000 * 2 * 5
    answer = httpx.post(server.url + "/key", json={"key": "POWER"}).json()
    assert answer["accepted"] is False and answer["state"]["overlay"] == "fullscreen"
    assert answer["state"]["watching"] is True and answer["state"]["versions"] == {"TRDW": 1, "TCDW": 1, "TMDW": 1}
    # a plain form from another site cannot press keys
    assert httpx.post(server.url + "/key", data={"key": "POWER"}).status_code == 415
    assert httpx.post(server.url + "/key", json={"key": "HOME"}).status_code == 400
    assert httpx.post(server.url + "/mains", json={"plugged": "no"}).status_code == 400
    state = httpx.post(server.url + "/mains", json={"plugged": False}).json()["state"]
    assert (state["power"], state["overlay"], state["plugged"]) == ("off", "none", False)
    assert httpx.get(server.url + "/sound.wav").status_code == 404


def test_stb_command_prints_state_changes(tmp_path: Path) -> None:
    port = udp_port()
    process = subprocess.Popen([*clock.siaga(), "stb", "--udp", f"127.0.0.1:{port}",
                                "--postcode", "42431", "--terminal"], stdout=subprocess.PIPE, text=True)
    try:
        assert "tuned to" in process.stdout.readline()  # type: ignore[union-attr]
        carousel = ts.Carousel()
        carousel.set_sections(encode_messages([Message(key="q", level="WASPADA", disaster_code=1,
                                                       locations=(Location("42431"),), text="Gempa dirasakan")], 1))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for _ in range(40):
                sender.sendto(b"".join(carousel.next_packets(7)), ("127.0.0.1", port))
                time.sleep(0.005)
        lines = [process.stdout.readline() for _ in range(2)]  # type: ignore[union-attr]
        assert "EWS dipantau" in lines[0]
        assert "teks berjalan" in lines[1] and "WASPADA" in lines[1] and "Gempa dirasakan" in lines[1]  # in Indonesian
    finally:
        process.terminate()
        process.wait(10)
