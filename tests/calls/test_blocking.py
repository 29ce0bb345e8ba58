"""The staged blocking policy: warn, 24 h, 3 days, permanent; window; lift; corrected tags; the blocklist."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from siaga.calls import blocking
from siaga.calls.actions import do_lift_caller_sanctions, do_tag_call
from siaga.calls.models import Call, CallerSanction
from siaga.core.errors import Conflict, Forbidden, ValidationFailed
from tests.calls.helpers import ev, post_event

pytestmark = pytest.mark.django_db
NUMBER = "081298765432"
E164 = "+6281298765432"


def make_call(client: Any, pbx: Any, ref: str, number: str = NUMBER, minutes_ago: float = 0) -> Call:
    post_event(client, pbx, ev("offered", call=ref, at=-minutes_ago * 60 + 1700, caller=number))
    return Call.objects.get(call_ref=ref)


def test_stages_escalate(client: Any, pbx: Any, actors: Any) -> None:
    operator = actors["operator"].principal
    now = timezone.now()
    expected = [("warn", None), ("block", timedelta(hours=24)), ("block", timedelta(days=3)), ("block", None),
                ("block", None)]
    for i, (stage, duration) in enumerate(expected, start=1):
        call = make_call(client, pbx, f"p{i}")
        do_tag_call(call.pk, "prank", operator)
        sanction = CallerSanction.objects.filter(caller=E164).order_by("-id").first()
        assert sanction is not None and (sanction.strike, sanction.stage) == (i, stage)
        if stage == "block" and duration is not None:
            assert abs((sanction.ends_at - sanction.starts_at) - duration) < timedelta(seconds=1)
        if stage == "block" and duration is None:
            assert sanction.ends_at is None  # permanent
    assert sanction.starts_at >= now


def test_blocklist_and_call_flag(client: Any, pbx: Any, actors: Any) -> None:
    for i in range(2):
        do_tag_call(make_call(client, pbx, f"g{i}").pk, "ghost", actors["operator"].principal)
    response = client.get("/api/v1/blocklist", **pbx.headers())
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["blocks"][0]["caller"] == E164 and body["blocks"][0]["permanent"] is False
    text = client.get("/api/v1/blocklist?format=text", **pbx.headers())
    assert text.content.decode() == E164 + "\n"
    # the next call from the number is logged, and flagged as coming from a blocked number
    call = make_call(client, pbx, "g-next")
    assert call.caller_blocked is True


def test_same_tag_twice_is_one_strike(client: Any, pbx: Any, actors: Any) -> None:
    call = make_call(client, pbx, "x1")
    do_tag_call(call.pk, "prank", actors["operator"].principal)
    do_tag_call(call.pk, "prank", actors["operator"].principal)
    assert CallerSanction.objects.filter(caller=E164).count() == 1


def test_correcting_a_tag_withdraws_its_sanction(client: Any, pbx: Any, actors: Any) -> None:
    op = actors["operator"].principal
    calls = [make_call(client, pbx, f"r{i}") for i in range(2)]
    for call in calls:
        do_tag_call(call.pk, "prank", op)
    assert client.get("/api/v1/blocklist", **pbx.headers()).json()["count"] == 1
    do_tag_call(calls[1].pk, "normal", op)  # it was a real emergency after all
    assert client.get("/api/v1/blocklist", **pbx.headers()).json()["count"] == 0
    assert CallerSanction.objects.get(call=calls[1]).lift_reason.startswith("retag:")


def test_supervisor_lifts_and_the_count_starts_again(client: Any, pbx: Any, actors: Any) -> None:
    op, sup = actors["operator"].principal, actors["supervisor"].principal
    for i in range(3):
        do_tag_call(make_call(client, pbx, f"l{i}").pk, "prank", op)
    with pytest.raises(Forbidden):
        do_lift_caller_sanctions(NUMBER, op, "salah blokir")
    with pytest.raises(ValidationFailed):
        do_lift_caller_sanctions(NUMBER, sup, "  ")
    lifted = do_lift_caller_sanctions(NUMBER, sup, "penelepon sudah dibina")
    assert len(lifted) == 3
    assert client.get("/api/v1/blocklist", **pbx.headers()).json()["count"] == 0
    do_tag_call(make_call(client, pbx, "l-after").pk, "prank", op)
    assert CallerSanction.objects.filter(caller=E164).order_by("-id").first().stage == "warn"
    with pytest.raises(Conflict):
        do_lift_caller_sanctions("0811111111", sup, "tidak ada")


def test_lift_through_the_api(client: Any, pbx: Any, actors: Any) -> None:
    for i in range(2):
        do_tag_call(make_call(client, pbx, f"a{i}").pk, "prank", actors["operator"].principal)
    denied = client.post(f"/api/v1/callers/{E164}/lift", data={"reason": "x"}, content_type="application/json",
                         **actors["operator"].headers())
    assert denied.status_code == 403
    response = client.post(f"/api/v1/callers/{E164}/lift", data={"reason": "dicabut"},
                           content_type="application/json", **actors["supervisor"].headers())
    assert response.status_code == 200 and len(response.json()["lifted"]) == 2


def test_strikes_outside_the_window_do_not_count(client: Any, pbx: Any, actors: Any, settings: Any) -> None:
    settings.BLOCK_WINDOW_DAYS = 1
    old = make_call(client, pbx, "old")
    Call.objects.filter(pk=old.pk).update(offered_at=timezone.now() - timedelta(days=3))
    do_tag_call(old.pk, "prank", actors["operator"].principal)  # outside the window: not a strike
    assert not CallerSanction.objects.exists()
    do_tag_call(make_call(client, pbx, "new").pk, "prank", actors["operator"].principal)
    assert CallerSanction.objects.get().strike == 1


def test_withheld_numbers_are_not_sanctioned(client: Any, pbx: Any, actors: Any) -> None:
    call = make_call(client, pbx, "anon", number="anonymous")
    do_tag_call(call.pk, "ghost", actors["operator"].principal)
    assert not CallerSanction.objects.exists()


def test_caller_history(client: Any, pbx: Any, actors: Any) -> None:
    for i, outcome in enumerate(["prank", "information", "ghost"]):
        do_tag_call(make_call(client, pbx, f"h{i}").pk, outcome, actors["operator"].principal)
    response = client.get(f"/api/v1/callers/{NUMBER}", **actors["operator"].headers())
    body = response.json()
    assert body["caller"] == E164 and body["total_calls"] == 3
    assert body["by_outcome"] == {"prank": 1, "information": 1, "ghost": 1}
    assert body["strikes"] == 2 and body["blocked"] is True and body["next_stage"] == "3d"
    assert len(body["recent"]) == 3 and len(body["sanctions"]) == 2


def test_tag_validation(client: Any, pbx: Any, actors: Any) -> None:
    call = make_call(client, pbx, "v")
    response = client.post(f"/api/v1/calls/{call.pk}/tag", data={"outcome": "funny"},
                           content_type="application/json", **actors["operator"].headers())
    assert response.status_code == 422 and response.json()["error"]["field"] == "outcome"
    missing = client.post("/api/v1/calls/999999/tag", data={"outcome": "prank"}, content_type="application/json",
                          **actors["operator"].headers())
    assert missing.status_code == 404


@pytest.mark.parametrize("config", [("warn", "nope"), ("0h",), ()])
def test_bad_stage_configuration(settings: Any, config: tuple[str, ...]) -> None:
    settings.BLOCK_STAGES = list(config)
    with pytest.raises(ImproperlyConfigured):
        blocking.stages()


def test_custom_stages(settings: Any) -> None:
    settings.BLOCK_STAGES = ["30m", "2w"]
    assert blocking.stage_for_strike(1).duration == timedelta(minutes=30)
    assert blocking.stage_for_strike(5).duration == timedelta(weeks=2)
