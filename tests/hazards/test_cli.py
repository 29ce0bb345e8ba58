"""`siaga bmkg classify`: one JSON line per quake with the policy's answer; bad files exit 1 naming the field."""

import json
import subprocess
from pathlib import Path

from tests import clock

DATA = Path(__file__).resolve().parents[2] / "src" / "siaga" / "hazards" / "data"
KEYS = {"event_id", "time_utc", "magnitude", "depth_km", "lat", "lon", "tsunami_potential", "distance_km",
        "display", "ews_level"}


def siaga(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*clock.siaga(), *args], capture_output=True, input=stdin, timeout=60)


def lines(result: subprocess.CompletedProcess[bytes]) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def test_classify_several_files() -> None:
    result = siaga("bmkg", "classify", str(DATA / "scenarios" / "autogempa_drill_selat_sunda_m7_tsunami.json"),
                   str(DATA / "scenarios" / "autogempa_drill_selat_sunda_m5_felt.json"),
                   str(DATA / "recorded" / "gempaterkini_2021-12-14_flores_potensi_tsunami.json"))
    assert result.returncode == 0, result.stderr
    rows = lines(result)
    assert all(set(row) >= KEYS for row in rows)
    assert (rows[0]["display"], rows[0]["ews_level"], rows[0]["tsunami_potential"]) == ("fullscreen", "AWAS", True)
    assert rows[0]["time_utc"] == "2026-11-12T03:02:41Z" and 100 < rows[0]["distance_km"] < 130
    assert (rows[1]["display"], rows[1]["ews_level"]) == ("ticker", "WASPADA")
    flores = rows[2:]
    assert len(flores) == 12  # the four rows of the Flores quake are one quake
    assert sum(1 for row in flores if row["tsunami_potential"]) == 1
    assert {row["display"] for row in flores} == {"none", "ticker"}
    assert len(lines(siaga("bmkg", "classify", "--all",
                           str(DATA / "recorded" / "gempaterkini_2021-12-14_flores_potensi_tsunami.json")))) == 15


def test_classify_inatews_from_stdin() -> None:
    data = (DATA / "scenarios" / "inatews_drill_selat_sunda_PD2.json").read_bytes()
    [row] = lines(siaga("bmkg", "classify", "-", stdin=data))
    assert (row["display"], row["ews_level"], row["inatews_subject"]) == ("fullscreen", "SIAGA", "Warning Tsunami PD-2")


def test_malformed_file_exits_1_naming_file_and_field(tmp_path: Path) -> None:
    record = json.loads((DATA / "recorded" / "autogempa_2021-10-05_dompu.json").read_text())
    record["Infogempa"]["gempa"]["Magnitude"] = "kuat"
    bad = tmp_path / "autogempa_rusak.json"
    bad.write_text(json.dumps(record))
    good = DATA / "scenarios" / "autogempa_drill_selat_sunda_m5_felt.json"
    result = siaga("bmkg", "classify", str(bad), str(good))
    assert result.returncode == 1
    err = result.stderr.decode()
    assert str(bad) in err and "Magnitude" in err and "'kuat'" in err
    assert len(lines(result)) == 1  # the good file is still classified
    missing = siaga("bmkg", "classify", str(tmp_path / "nope.json"))
    assert missing.returncode == 1 and "nope.json" in missing.stderr.decode()
    html = tmp_path / "error.json"
    html.write_text("<html><body>503 Service Unavailable</body></html>")
    result = siaga("bmkg", "classify", str(html))
    assert result.returncode == 1 and "error.json" in result.stderr.decode()


def test_unknown_potensi_wording_is_logged_loudly(tmp_path: Path) -> None:
    record = json.loads((DATA / "scenarios" / "autogempa_drill_selat_sunda_m7_tsunami.json").read_text())
    record["Infogempa"]["gempa"]["Potensi"] = "Waspadai potensi tsunami"
    path = tmp_path / "autogempa_new.json"
    path.write_text(json.dumps(record))
    result = siaga("bmkg", "classify", str(path))
    assert result.returncode == 0
    [row] = lines(result)
    assert row["display"] == "fullscreen" and "unknown_potential_wording" in row["reasons"]
    assert "unknown BMKG Potensi wording" in result.stderr.decode()
