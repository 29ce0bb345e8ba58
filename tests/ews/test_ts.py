"""The transport stream: read by real tools (ffprobe, tshark), decoded back by our demultiplexer, and a
demultiplexer that survives whatever bytes it is given."""

import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siaga.ews import layout, ts
from siaga.ews.demux import Demux, sections
from siaga.ews.sections import CarouselReader, Location, Message, encode, plan

WARNING = Message(key="tsunami", level="AWAS", disaster_code=2,
                  locations=tuple(Location(f"424{n:02d}", f"Kelurahan {n}") for n in range(11, 48)),
                  position="6.85 LS 105.22 BT", date="28-11-2026 17:05:00 WIB", characteristic="M7.4",
                  text="AWAS TSUNAMI: segera evakuasi menyeluruh ke tempat tinggi. " * 12)
LONG = plan([WARNING]).packages  # 37 postcodes: 8 packages
READ = [type(p)(**{**p.__dict__, "key": ""}) for p in LONG]  # what a reader gets back (the key is not on air)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("SIAGA_REQUIRE_TS_TOOLS") == "1":
            pytest.fail(f"{name} is required (SIAGA_REQUIRE_TS_TOOLS=1) but not installed")
        pytest.skip(f"{name} is not installed (apt install ffmpeg tshark)")
    return path


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    carousel = ts.Carousel(ts.Service(name="EWS Kota Cilegon"), bitrate=500_000)
    carousel.set_sections(encode(LONG, 9))
    path = tmp_path_factory.mktemp("ts") / "ews.ts"
    path.write_bytes(carousel.seconds(3.0))
    return path


def test_constant_bitrate_and_repetition(stream: Path) -> None:
    data = stream.read_bytes()
    assert len(data) % 188 == 0 and len(data) // 188 == round(3.0 * 500_000 / 8 / 188)
    starts = [i for i, p in enumerate(ts.split_packets(data)) if ts.pid_of(p) == 0x80 and p[1] & 0x40 and p[5] == 0x80
              and p[9] == 0x01]  # TRDW section starts
    gaps = [(b - a) * 188 * 8 / 500_000 for a, b in itertools.pairwise(starts)]
    assert len(starts) >= 11 and max(gaps) <= 0.5


def test_our_demux_reads_back_every_field(stream: Path) -> None:
    reader = CarouselReader()
    found = [s for pid, sec in sections(stream.read_bytes()) if pid == 0x80 and (s := reader.feed(sec))]
    assert len(found) == 1 and found[0].packages == READ
    assert found[0].versions == {"TRDW": 9, "TCDW": 9, "TMDW": 9} and len(READ) == 8


def test_ffprobe_reads_the_programme_and_the_ews_pid(stream: Path) -> None:
    done = subprocess.run([tool("ffprobe"), "-v", "error", "-show_programs", "-show_streams", "-of", "json",
                           str(stream)], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == ""
    info = json.loads(done.stdout)
    [programme] = info["programs"]
    assert programme["program_num"] == layout.PROGRAM_NUMBER == 0x038F and programme["pmt_pid"] == 0x100
    assert programme["tags"]["service_name"] == "EWS Kota Cilegon"
    assert [(s["id"], s["codec_tag"]) for s in programme["streams"]] == [("0x80", "0x0005")]


def test_tshark_reads_every_packet_with_continuity_intact(stream: Path) -> None:
    done = subprocess.run([tool("tshark"), "-r", str(stream), "-T", "fields", "-E", "separator=;", "-e", "mp2t.pid",
                           "-e", "mp2t.cc", "-e", "mp2t.cc.drop", "-e", "dvb_sdt.original_nid"],
                          capture_output=True, text=True, check=True)
    rows = [line.split(";") for line in done.stdout.splitlines()]
    assert len(rows) == stream.stat().st_size // 188
    assert not [r for r in rows if r[2]], "tshark saw continuity-counter drops"
    assert {r[3] for r in rows if r[3]} == {"0x2168"}
    counters: dict[str, list[int]] = {}
    for pid, cc, *_ in rows:
        if int(pid, 16) != 0x1FFF:
            counters.setdefault(pid, []).append(int(cc))
    assert {int(pid, 16) for pid in counters} == {0x0000, 0x0011, 0x0080, 0x0100}
    for values in counters.values():
        assert all((b - a) % 16 == 1 for a, b in itertools.pairwise(values))


def test_sections_across_packets_several_per_packet_and_cc_gaps() -> None:
    packetiser = ts.Packetiser()
    sec = encode(LONG, 1)
    per_section = [packetiser.packets(0x80, s) for s in sec]
    big = next(n for n, packets in enumerate(per_section) if len(packets) >= 3)
    # a lost packet in the middle of a section drops that section only
    damaged = b"".join(p for n, packets in enumerate(per_section) for i, p in enumerate(packets)
                       if (n, i) != (big, 1))
    demux = Demux()
    got = list(demux.feed(damaged))
    assert [s for _, s in got] == sec[:big] + sec[big + 1:] and demux.cc_errors == 1
    # sections packed back to back, the second starting mid-packet (pointer_field), as other muxers do
    stream, starts = sec[1] + sec[2], {0, len(sec[1])}
    pack, at, counter = [], 0, 0
    while at < len(stream):
        start = min((x for x in starts if at <= x < at + 183), default=None)
        if start is not None:
            payload, flag = bytes([start - at]) + stream[at:at + 183], 0x40
            at += 183
        else:
            payload, flag = stream[at:at + 184], 0x00
            at += 184
        pack.append(bytes([0x47, flag, 0x80, 0x10 | counter % 16]) + payload + b"\xff" * (184 - len(payload)))
        counter += 1
    assert [s for _, s in sections(b"".join(pack))] == [sec[1], sec[2]]


def test_a_change_goes_on_air_after_the_section_in_progress_not_after_the_repetition() -> None:
    """Thirty warnings make a repetition of ~60 sections. A change in the middle of one: the old repetition is
    cut at a section boundary, the new version starts within one section plus PSI, and a receiver gets the new
    version whole (never a mix, never a torn section)."""
    many = plan([Message(key=str(n), level="WASPADA", disaster_code=1, locations=(Location(f"42{n:03d}"),),
                         text="Gempa dirasakan. " * 40) for n in range(100, 130)]).packages
    carousel = ts.Carousel(bitrate=150_000)
    carousel.set_sections(encode(many, 5))
    assert carousel.overbooked and carousel.repetition_seconds > 0.25
    reader = CarouselReader()
    before = b"".join(carousel.next_packets(40))  # well into the first repetition
    assert all(reader.feed(sec) is None for pid, sec in sections(before) if pid == 0x80)
    carousel.set_sections(encode(LONG, 6))
    after = carousel.next_packets(400)
    first_new = next(i for i, p in enumerate(after) if ts.pid_of(p) == 0x80 and p[1] & 0x40 and (p[10] >> 1) & 31 == 6)
    longest = max(-(-(len(sec) + 1) // 184) for sec in encode(many, 5))
    assert first_new <= longest + 3  # the section in progress, then at most PAT, PMT, SDT
    demux = Demux()
    demux.feed(before)
    found = [s for pid, sec in demux.feed(b"".join(after)) if pid == 0x80 and (s := reader.feed(sec))]
    assert [(s.versions, s.packages) for s in found] == [({"TRDW": 6, "TCDW": 6, "TMDW": 6}, READ)]
    assert not ts.Carousel(bitrate=500_000).overbooked


def test_garbage_before_and_between_packets_is_skipped() -> None:
    carousel = ts.Carousel()
    carousel.set_sections(encode(LONG, 2))
    data = carousel.seconds(0.3)
    noisy = b"\x47\x00garbage\x47" + data[:188 * 5] + b"\x00" * 77 + data[188 * 5:]
    reader = CarouselReader()
    found = [s for pid, sec in sections(noisy) if pid == 0x80 and (s := reader.feed(sec))]
    assert found and found[0].packages == READ


@given(st.binary(max_size=4000))
@settings(max_examples=300)
def test_fuzz_demux_random_bytes(data: bytes) -> None:
    reader = CarouselReader()
    for _pid, section in Demux().feed(data):
        assert reader.feed(section) is None


@given(st.lists(st.tuples(st.integers(0, 188 * 40 - 1), st.integers(1, 255)), max_size=30),
       st.integers(0, 188 * 40), st.integers(1, 188 * 3))
@settings(max_examples=200, deadline=None)
def test_fuzz_demux_corrupted_and_truncated_streams(flips: list, cut: int, chunk: int) -> None:
    """Flipped bytes, a truncated end and arbitrary chunking: never a crash, never a warning that differs from
    the one on air."""
    carousel = ts.Carousel(bitrate=100_000)
    carousel.set_sections(encode(LONG, 3))
    data = bytearray(carousel.next_packets(40) and b"".join(carousel.next_packets(40)))
    for position, xor in flips:
        data[position % len(data)] ^= xor
    data = data[:cut]
    demux, reader = Demux(), CarouselReader()
    for at in range(0, len(data), chunk):
        for pid, section in demux.feed(bytes(data[at:at + chunk])):
            snapshot = reader.feed(section) if pid == 0x80 else None
            if snapshot is not None:
                assert all(p in READ for p in snapshot.packages)


def test_inserted_into_a_video_ts_a_player_sees_the_programme_and_the_warning(tmp_path: Path) -> None:
    """ffmpeg makes a CBR test-pattern TS; the carousel replaces its null packets and its PAT, as an EWS
    inserter does; ffprobe sees the video's programme and the EWS programme 0x038F, and our decoder the
    warning."""
    video = tmp_path / "video.ts"
    subprocess.run([tool("ffmpeg"), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "3",
                    "-c:v", "mpeg2video", "-b:v", "300k", "-muxrate", "1000000", "-f", "mpegts", str(video)],
                   check=True, capture_output=True)
    carousel = ts.Carousel(bitrate=1_000_000)
    carousel.set_sections(encode(LONG, 4))
    mixed = tmp_path / "mixed.ts"
    mixed.write_bytes(ts.insert_into(video.read_bytes(), carousel))
    done = subprocess.run([tool("ffprobe"), "-v", "error", "-show_programs", "-of", "json", str(mixed)],
                          capture_output=True, text=True, check=True)
    programmes = {p["program_num"]: p for p in json.loads(done.stdout)["programs"]}
    assert set(programmes) == {1, 0x038F}
    video_kinds = {s.get("codec_name") for s in programmes[1]["streams"]}
    ews_kinds = {s["id"]: s.get("codec_tag") for s in programmes[0x038F]["streams"]}
    assert "mpeg2video" in video_kinds and ews_kinds == {"0x80": "0x0005"}
    reader = CarouselReader()
    found = [s for pid, sec in sections(mixed.read_bytes()) if pid == 0x80 and (s := reader.feed(sec))]
    assert found and found[0].packages == READ


def ffmpeg_video(path: Path, *extra: str) -> Path:
    subprocess.run([tool("ffmpeg"), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "2",
                    "-c:v", "mpeg2video", "-b:v", "300k", "-muxrate", "1000000", *extra, "-f", "mpegts", str(path)],
                   check=True, capture_output=True)
    return path


def test_the_bitrate_of_a_cbr_video_is_measured_from_its_pcrs(tmp_path: Path) -> None:
    video = ffmpeg_video(tmp_path / "video.ts").read_bytes()
    assert abs(ts.measure_bitrate(video) - 1_000_000) < 20_000
    carousel = ts.Carousel(bitrate=500_000)  # our carousel alone carries no PCR
    with pytest.raises(ValueError, match="fewer than two PCRs"):
        ts.measure_bitrate(carousel.seconds(1.0))


def test_a_video_that_already_uses_the_ews_pid_is_refused(tmp_path: Path) -> None:
    video = ffmpeg_video(tmp_path / "video.ts", "-mpegts_start_pid", "0x80").read_bytes()
    with pytest.raises(ValueError, match="already uses PID 0x0080, the EWS PID: choose the other EWS PID"):
        ts.insert_into(video, ts.Carousel(bitrate=1_000_000))
    carousel = ts.Carousel(ts.Service(ews_pid=layout.ALTERNATE_PID), bitrate=1_000_000)
    carousel.set_sections(encode(LONG, 1))
    mixed = ts.insert_into(video, carousel)
    reader = CarouselReader()
    assert [s.packages for pid, sec in sections(mixed) if pid == 0x38F and (s := reader.feed(sec))] == [READ]


def test_a_video_with_programme_0x038f_is_refused(tmp_path: Path) -> None:
    video = ffmpeg_video(tmp_path / "video.ts", "-mpegts_service_id", str(0x038F)).read_bytes()
    with pytest.raises(ValueError, match="already has programme 0x038F"):
        ts.insert_into(video, ts.Carousel(bitrate=1_000_000))
