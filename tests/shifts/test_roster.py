"""The roster: adding people, refusing impossible entries, coverage, CSV export and all-or-nothing import."""

import subprocess
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from siaga.core.errors import Conflict, ValidationFailed
from siaga.shifts import actions, queries
from siaga.shifts.models import RosterEntry
from tests import clock
from tests.conftest import make_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(actors: Any) -> dict[str, Any]:
    people = {f"op{i}": make_actor(f"op{i}", "operator") for i in range(1, 7)}
    people.update({f"sup{i}": make_actor(f"sup{i}", "supervisor") for i in range(1, 3)})
    return people


def future(days: int = 10) -> date:
    return timezone.localdate() + timedelta(days=days)


def staff_shift(admin: Any, day: date, code: str, operators: list[str], supervisor: str | None) -> None:
    for name in operators:
        actions.do_roster_add(admin, day, code, name, "operator")
    if supervisor:
        actions.do_roster_add(admin, day, code, supervisor, "supervisor")


def test_impossible_entries_are_refused(actors: Any, crew: Any) -> None:
    sup = actors["supervisor"].principal
    day = future()
    actions.do_roster_add(sup, day, "pagi", "op1", "operator")
    with pytest.raises(Conflict, match="already on"):
        actions.do_roster_add(sup, day, "pagi", "op1", "operator")
    with pytest.raises(ValidationFailed, match="not in the supervisor group"):
        actions.do_roster_add(sup, day, "siang", "op2", "supervisor")
    with pytest.raises(ValidationFailed, match="unknown"):
        actions.do_roster_add(sup, day, "sore", "op2", "operator")
    with pytest.raises(ValidationFailed, match="no user"):
        actions.do_roster_add(sup, day, "pagi", "ghost-user", "operator")
    with pytest.raises(ValidationFailed, match="only an admin"):
        actions.do_roster_add(sup, timezone.localdate() - timedelta(days=5), "pagi", "op2", "operator")
    past = timezone.localdate() - timedelta(days=5)
    actions.do_roster_add(actors["admin"].principal, past, "pagi", "op2", "operator")
    crew["op3"].user.is_active = False
    crew["op3"].user.save()
    with pytest.raises(ValidationFailed, match="deactivated"):
        actions.do_roster_add(sup, day, "pagi", "op3", "operator")
    assert RosterEntry.objects.count() == 2


def test_overlapping_shifts_after_a_redefinition_are_refused(actors: Any, crew: Any) -> None:
    admin = actors["admin"].principal
    day = future()
    actions.do_roster_add(admin, day, "siang", "op1", "operator")  # 15:00-23:00
    actions.do_define_shifts(admin, actions.parse_windows("Pagi=07:00-19:00,Malam=19:00-07:00"))
    with pytest.raises(Conflict, match="overlaps"):
        actions.do_roster_add(admin, day, "malam", "op1", "operator")  # 19:00-07:00 overlaps 15:00-23:00


def test_definitions_must_tile_the_day_and_nothing_changes_otherwise(actors: Any) -> None:
    from datetime import time

    from siaga.shifts.schedule import Window

    admin = actors["admin"].principal
    before = list(queries.windows())
    gappy = [Window("a", "A", time(7), time(15)), Window("b", "B", time(15), time(22)),
             Window("c", "C", time(23), time(7))]
    with pytest.raises(ValidationFailed, match="gap of 60 min between B"):
        actions.do_define_shifts(admin, gappy)
    queries.forget()
    assert queries.windows() == before
    with pytest.raises(ValidationFailed, match="NAME=HH:MM-HH:MM"):
        actions.parse_windows("Pagi 07-15")


def test_coverage(actors: Any, crew: Any) -> None:
    admin = actors["admin"].principal
    day = future()
    staff_shift(admin, day, "pagi", ["op1", "op2", "op3"], "sup1")
    staff_shift(admin, day, "siang", ["op4", "op5"], "sup2")  # one operator short
    # sup1 works pagi and then the night too, and the next morning: three in a row? no: pagi, malam, pagi+1
    staff_shift(admin, day, "malam", ["op1", "op6", "op2"], None)  # no supervisor; op1 pagi->malam not adjacent
    actions.do_roster_add(admin, day, "siang", "op3", "operator")  # op3: pagi, siang ...
    actions.do_roster_add(admin, day, "malam", "op3", "operator")  # ... and malam: three in a row
    result = queries.coverage(day, day)
    short = {(r["shift"], r["operators"], r["supervisors"]) for r in result.understaffed}
    assert short == {("malam", 4, 0)}
    assert [(r["user"], r["shifts"]) for r in result.too_long] == [("op3", 3)]
    empty = queries.coverage(day + timedelta(days=1), day + timedelta(days=1))
    assert len(empty.understaffed) == 3 and not empty.ok


def test_check_command_exit_codes(actors: Any, crew: Any) -> None:
    from django.core.management import call_command

    day = future()
    admin = actors["admin"].principal
    plan = (("pagi", ["op1", "op2", "op3"]), ("siang", ["op4", "op5", "op6"]), ("malam", ["op1", "op2", "op3"]))
    for code, ops in plan:
        staff_shift(admin, day, code, ops, "sup1" if code != "siang" else "sup2")
    call_command("shifts", "check", "--from", day.isoformat(), "--to", day.isoformat())  # complete: no exit
    with pytest.raises(SystemExit) as stop:
        call_command("shifts", "check", "--from", day.isoformat(), "--to", (day + timedelta(days=1)).isoformat())
    assert stop.value.code == 1


def test_check_command_refuses_bad_dates() -> None:
    result = subprocess.run([*clock.siaga(), "shifts", "check", "--from", "2026-13-01", "--to",
                             "2026-12-01"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "bukan tanggal (TTTT-BB-HH)" in result.stderr


def test_csv_roundtrip_and_all_or_nothing_import(actors: Any, crew: Any) -> None:
    admin = actors["admin"].principal
    day = future(40)
    month = day.strftime("%Y-%m")
    staff_shift(admin, day, "pagi", ["op1", "op2"], "sup1")
    text = actions.export_roster(month)
    assert text.splitlines()[0] == "date,shift,username,role"
    assert f"{day.isoformat()},pagi,op1,operator" in text
    lines = text.splitlines()
    edited = "\n".join([line for line in lines if ",op2," not in line] + [f"{day.isoformat()},siang,op4,operator"])
    result = actions.do_import_roster(admin, month, edited)
    assert (result.added, result.removed, result.kept) == (1, 1, 0)
    assert actions.export_roster(month).count("\n") == len(lines)  # op2 out, op4 in
    before = actions.export_roster(month)
    bad = edited + f"\n{day.isoformat()},sore,op5,operator\nnot-a-date,pagi,op5,operator\n2031-01-01,pagi,op5,operator"
    with pytest.raises(ValidationFailed) as err:
        actions.do_import_roster(admin, month, bad)
    message = err.value.message
    assert "line 5" in message and "sore" in message and "line 6" in message and "line 7" in message
    assert actions.export_roster(month) == before  # nothing stored half-way
    with pytest.raises(ValidationFailed, match="YYYY-MM"):
        actions.do_import_roster(admin, "2026-13", edited)
    with pytest.raises(ValidationFailed, match="first line"):
        actions.do_import_roster(admin, month, "tanggal,shift\n")


def test_roster_api(client: Any, actors: Any, crew: Any) -> None:
    day = future()
    response = client.post("/api/v1/roster", data={"date": day.isoformat(), "shift": "pagi", "username": "op1",
                                                   "role": "operator"}, content_type="application/json",
                           **actors["supervisor"].headers())
    assert response.status_code == 201
    body = client.get(f"/api/v1/roster?month={day:%Y-%m}", **actors["operator"].headers()).json()
    assert any(e["username"] == "op1" for e in body["entries"])
    assert body["coverage"]["understaffed"]
    csv_text = client.get(f"/api/v1/roster/export?month={day:%Y-%m}", **actors["supervisor"].headers()).content
    assert b",pagi,op1,operator" in csv_text
    entry = RosterEntry.objects.get(user__username="op1")
    assert client.delete(f"/api/v1/roster/{entry.pk}", **actors["supervisor"].headers()).status_code == 204
    assert client.get("/api/v1/roster?month=2026-13", **actors["operator"].headers()).status_code == 422
