"""Shift, daily and monthly reports: numbers by hand on a fixed day, the PDF with real poppler tools, bad input."""

import json
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from siaga.calls.actions import do_ingest_cti_event, do_tag_call
from siaga.calls.models import Call
from siaga.formats import cti
from siaga.incidents import actions
from siaga.reports import compute, export, kpis, period
from tests import clock

pytestmark = pytest.mark.django_db


def at(day: datetime, hhmm: str, seconds: float = 0) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return day.replace(hour=hour, minute=minute) + timedelta(seconds=seconds)


def call(pbx: Any, ref: str, offered: datetime, answer_after: float | None, end_after: float, caller: str) -> Call:
    def event(kind: str, when: datetime, **extra: Any) -> None:
        body = {"event_id": f"{ref}:{kind}", "type": f"call.{kind}", "call_id": ref, "occurred_at": when.isoformat(),
                **extra}
        do_ingest_cti_event(pbx.integration, cti.validate(body), body)

    event("offered", offered, caller=caller)
    if answer_after is not None:
        event("answered", offered + timedelta(seconds=answer_after), agent="2001")
    event("ended", offered + timedelta(seconds=end_after))
    return Call.objects.get(call_ref=ref)


@pytest.fixture
def day(pbx: Any, actors: Any) -> datetime:
    """Yesterday (Jakarta), with a known set of calls, incidents and dispatches."""
    op, damkar = actors["operator"].principal, actors["agency"].principal
    start = kpis.today_start() - timedelta(days=1)
    prank_number = "081299990000"
    plan = [  # (ref, hh:mm, answer after s, ended after s, caller, tag)
        ("a", "06:30", 5, 30, prank_number, "prank"),        # night shift of the day before
        ("b", "07:10", 18, 40, prank_number, "prank"),
        ("c", "08:00", 12, 60, "081200000001", "ghost"),
        ("d", "09:00", 25, 90, "081200000002", "information"),
        ("e", "09:30", None, 8, "081200000003", None),        # abandoned quickly: not counted in answer times
        ("f", "10:00", None, 30, "081200000004", None),       # abandoned after 30 s: counted, not within
        ("g", "15:30", 4, 200, "081200000005", None),         # emergency: fire
        ("h", "23:30", 19, 200, "081200000006", None),        # emergency: traffic, night shift
    ]
    calls = {}
    for ref, hhmm, answer, end, number, tag in plan:
        calls[ref] = call(pbx, f"r-{ref}", at(start, hhmm), answer, end, number)
        if tag:
            do_tag_call(calls[ref].pk, tag, op)
    fire, _ = actions.do_create_incident(op, category="kebakaran", call_id=calls["g"].pk, lat=-6.0171, lon=106.0556,
                                         at=at(start, "15:31"))
    fire_dispatch, _ = actions.do_dispatch(op, fire.pk, "damkar", at=at(start, "15:32"))  # 120 s after the call
    actions.do_update_dispatch(damkar, fire_dispatch.pk, "on_scene", at=at(start, "15:44"))  # 12 min response
    actions.do_update_dispatch(damkar, fire_dispatch.pk, "completed", at=at(start, "16:30"))
    actions.do_change_incident_status(op, fire.pk, "resolved", at=at(start, "16:31"))
    actions.do_change_incident_status(actors["supervisor"].principal, fire.pk, "closed", at=at(start, "16:35"))
    crash, _ = actions.do_create_incident(op, category="kecelakaan-lalu-lintas", call_id=calls["h"].pk,
                                          at=at(start, "23:32"))
    crash_police, _ = actions.do_dispatch(op, crash.pk, "polres", at=at(start, "23:36"))  # 360 s after the call
    actions.do_update_dispatch(actors["supervisor"].principal, crash_police.pk, "on_scene", at=at(start, "23:56"))
    return start


def test_daily_numbers_by_hand(day: datetime) -> None:
    report = compute.build(period.daily(day.date()))
    c = report["calls"]
    assert report["schema"] == "siaga112.report/1"
    assert c["total"] == 8
    assert c["by_outcome"] == {"normal": 2, "ghost": 1, "prank": 2, "information": 1, "abandoned": 2, "test": 0,
                               "untagged": 0}
    hours = [0] * 24
    for h in (6, 7, 8, 9, 9, 10, 15, 23):
        hours[h] += 1
    assert c["by_hour"] == hours
    assert c["by_category"] == {"kebakaran": 1, "kecelakaan-lalu-lintas": 1, "none": 6}
    assert c["by_kecamatan"] == {"Jombang": 1, "unknown": 7}
    assert c["by_shift"] == {"malam": 2, "pagi": 5, "siang": 1}
    # answered: 5, 18, 12, 25, 4, 19 s; abandoned after 30 s counts; after 8 s does not
    a = report["answer"]
    assert a["sample"] == 7
    assert a["within_15s"] == pytest.approx(3 / 7)  # 5, 12, 4
    assert a["within_20s"] == pytest.approx(5 / 7)  # + 18, 19
    assert a["median_seconds"] == pytest.approx(15.0)  # median of 4, 5, 12, 18, 19, 25
    assert report["dispatch"] == {"incidents": 2, "dispatched": 2, "median_seconds": 240.0, "p90_seconds": 360.0}
    assert report["agency_response"] == {
        "damkar": {"dispatches": 1, "on_scene": 1, "median_seconds": 720.0, "p90_seconds": 720.0},
        "polres": {"dispatches": 1, "on_scene": 1, "median_seconds": 1200.0, "p90_seconds": 1200.0}}
    top = report["nuisance"]["top_callers"]
    assert top[0] == {"caller": "+6281••••••000", "prank": 2, "ghost": 0, "total": 2, "blocked_now": True}
    assert report["incidents"]["open_at_end_count"] == 1  # the crash, still on scene
    assert [i["category"] for i in report["incidents"]["open_at_end"]] == ["kecelakaan-lalu-lintas"]
    trend = {row["bucket"]: row for row in report["nuisance"]["trend"]}
    assert trend["07:00"]["prank"] == 1 and trend["08:00"]["ghost"] == 1 and len(trend) == 24


def test_shift_and_month_reports(day: datetime) -> None:
    morning = compute.build(period.of_shift(day.date(), "pagi"))
    assert morning["calls"]["total"] == 5  # 07:10 .. 10:00
    assert morning["incidents"]["total"] == 0
    night = compute.build(period.of_shift(day.date(), "malam"))
    assert night["calls"]["total"] == 1 and night["incidents"]["total"] == 1
    month = compute.build(period.monthly(day.strftime("%Y-%m")))
    assert month["calls"]["total"] >= 8
    assert len(month["nuisance"]["trend"]) in (28, 29, 30, 31)


def test_bad_periods_are_named() -> None:
    from siaga.core.errors import ValidationFailed

    for bad in ("2026-13", "2026-1", "next month"):
        with pytest.raises(ValidationFailed, match="YYYY-MM"):
            period.monthly(bad)
    with pytest.raises(ValidationFailed, match="YYYY-MM-DD"):
        period.parse_day("28/11/2026")
    with pytest.raises(ValidationFailed, match="unknown"):
        period.of_shift(datetime(2026, 11, 28).date(), "sore")


def test_exports(day: datetime, tmp_path: Path) -> None:
    report = compute.build(period.daily(day.date()))
    data = json.loads(export.to_json(report))
    assert data["calls"]["by_outcome"]["prank"] == 2
    rows = dict(line.split(",", 1) for line in export.to_csv(report).decode().splitlines()[1:])
    assert rows["calls.by_outcome.prank"] == "2" and rows["answer.sample"] == "7"


def test_pdf_renders_with_a_title_page(day: datetime, tmp_path: Path) -> None:
    import os

    if shutil.which("pdftoppm") is None:
        if os.environ.get("SIAGA_REQUIRE_PDFTOPPM") == "1":
            pytest.fail("pdftoppm is required (apt install poppler-utils)")
        pytest.skip("poppler-utils not installed (apt install poppler-utils)")
    pdf = export.to_pdf(compute.build(period.daily(day.date())))
    target = tmp_path / "report.pdf"
    target.write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(target), str(tmp_path / "page")],
                   check=True, timeout=60)
    page = next(tmp_path.glob("page*.png"))
    assert page.stat().st_size > 2000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(target), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "Laporan Harian" in text and "Kota Cilegon" in text
        assert "WIB" in text.split("Dibuat oleh")[1] and "UTC" not in text  # stamped in the report's own time
        everything = subprocess.run(["pdftotext", str(target), "-"], capture_output=True, text=True, check=True).stdout
        block = everything[everything.index("Mengetahui"):]
        assert "Center 112" in block and "NIP." in block and "Cilegon," in everything  # the head of office signs


def test_web_page_and_download(client: Any, actors: Any, day: datetime) -> None:
    client.force_login(actors["supervisor"].user)
    page = client.get(f"/reports/?kind=daily&date={day.date().isoformat()}").content.decode()
    assert "data:image/png;base64," in page and "Dijawab dalam 15 detik" in page
    response = client.get(f"/reports/download?kind=daily&date={day.date().isoformat()}&format=json")
    assert response.status_code == 200 and json.loads(response.content)["calls"]["total"] == 8
    assert client.get("/reports/?kind=monthly&month=2026-13").status_code == 422


def test_the_report_page_names_codes_and_writes_indonesian_numbers(client: Any, actors: Any, day: datetime) -> None:
    import re

    client.force_login(actors["supervisor"].user)
    page = client.get(f"/reports/?kind=daily&date={day.date().isoformat()}").content.decode()
    cells = re.findall(r"<td>([^<]*)</td>", page)
    for code in ("normal", "ghost", "prank", "information", "abandoned", "untagged", "kebakaran", "damkar", "none"):
        assert code not in cells, code  # a raw code in a table cell
    assert "Prank / iseng" in cells and "Belum ditandai" in cells and "Kebakaran" in cells and "Damkar" in cells
    assert "25,0 %" in page and "25.0 %" not in page  # 2 pranks of 8 calls, with a decimal comma
    client.post("/i18n/setlang/", {"language": "en", "next": "/reports/"})
    english = client.get(f"/reports/?kind=daily&date={day.date().isoformat()}").content.decode()
    assert "25.0 %" in english and "25,0 %" not in english


def test_cli_refuses_an_empty_day_and_writes_a_report(tmp_path: Path, settings: Any) -> None:
    empty = subprocess.run([*clock.siaga(), "report", "daily", "--date", "2001-01-01", "--format",
                            "json", "--out", str(tmp_path / "r.json")], capture_output=True, text=True, timeout=120,
                           env=_env(settings))
    assert empty.returncode != 0 and "tidak ada panggilan atau kejadian" in empty.stderr
    assert not (tmp_path / "r.json").exists()
    bad = subprocess.run([*clock.siaga(), "report", "monthly", "--month", "2026-13", "--format",
                          "json", "--out", str(tmp_path / "m.json")], capture_output=True, text=True, timeout=120,
                         env=_env(settings))
    assert bad.returncode != 0 and "TTTT-BB" in bad.stderr
    ok = subprocess.run([*clock.siaga(), "report", "daily", "--date", "2001-01-01", "--format",
                         "csv", "--out", str(tmp_path / "r.csv"), "--allow-empty", "--progress"], capture_output=True,
                        text=True, timeout=120, env=_env(settings))
    assert ok.returncode == 0, ok.stderr
    assert "100%" in ok.stderr and (tmp_path / "r.csv").read_text().startswith("key,value")


def _env(settings: Any) -> dict[str, str]:
    import os

    from django.db import connection

    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    env["SIAGA_ENV"] = "development"
    env["SIAGA_VAR_DIR"] = str(settings.VAR_DIR)
    if connection.vendor == "postgresql":
        env["SIAGA_DATABASE_URL"] = os.environ.get("SIAGA_TEST_DATABASE_URL", "")
    else:
        env["SIAGA_DATABASE_URL"] = f"sqlite:///{settings.VAR_DIR / 'cli-report.sqlite3'}"
    subprocess.run([*clock.siaga(), "migrate", "--noinput"], env=env, capture_output=True,
                   check=True, timeout=300)
    return env
