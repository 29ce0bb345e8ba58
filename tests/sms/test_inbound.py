"""Messages that come in, acted on as the inbound module says: keywords, crews' answers, and every refusal
with a clear Indonesian answer and nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siaga.incidents import actions as incidents
from siaga.incidents.models import Dispatch
from siaga.sms import inbound
from siaga.sms.models import Inbound, Message, PlaceLink, Purpose, Subscriber
from tests.sms.conftest import crew

pytestmark = pytest.mark.django_db

_ids = iter(range(1, 10**9))


def sms(sender: str, text: str) -> Inbound:
    row, new = inbound.receive(inbound.Received(f"gw-{next(_ids)}", sender, "112", text))
    assert new
    return row


def reply_to(row: Inbound) -> str:
    return Message.objects.get(reply_to=row, purpose=Purpose.REPLY).text


def dispatched(actors: Any, agency: str = "damkar", **fields: Any) -> Dispatch:
    values = {"category": "kebakaran", "lat": -6.0171, "lon": 106.0556, "address": "Jl. Raya Anyer"}
    values.update(fields)
    incident, _ = incidents.do_create_incident(actors["operator"].principal, **values)
    dispatch, _ = incidents.do_dispatch(actors["operator"].principal, incident.pk, agency)
    return dispatch


@pytest.fixture
def damkar(sms_settings: Any, actors: Any) -> Any:
    return crew("+6281200000001", "damkar", "Regu A")


def test_a_step_from_a_number_that_is_not_a_crews_changes_nothing(damkar: Any, actors: Any) -> None:
    dispatch = dispatched(actors)
    row = sms("081299999999", f"1 {dispatch.incident.ticket}")
    assert row.outcome == "unknown_crew" and "tidak terdaftar sebagai nomor petugas" in reply_to(row)
    assert Dispatch.objects.get(pk=dispatch.pk).status == "requested"


def test_a_ticket_of_another_agency_is_refused(damkar: Any, actors: Any) -> None:
    other = dispatched(actors, agency="polres")
    row = sms("081200000001", f"1 {other.incident.ticket}")
    assert row.outcome == "other_agency" and f"{other.incident.ticket} bukan penugasan Damkar" in reply_to(row)
    assert Dispatch.objects.get(pk=other.pk).status == "requested"


def test_the_ticket_by_its_number_and_the_one_dispatch_without_a_ticket(damkar: Any, actors: Any) -> None:
    dispatch = dispatched(actors)
    number = dispatch.incident.ticket.rsplit("-", 1)[1].lstrip("0")
    assert sms("+6281200000001", f"1 {number}").outcome == "dispatch_step"
    assert sms("6281200000001", "3").outcome == "dispatch_step"  # en route skipped: on scene at once
    current = Dispatch.objects.get(pk=dispatch.pk)
    assert current.status == "on_scene" and current.sms_steps == ["acknowledged", "on_scene"]
    row = sms("6281200000001", "2")  # backwards: refused by the lifecycle, said in Indonesian
    assert row.outcome == "no_dispatch" and Dispatch.objects.get(pk=dispatch.pk).status == "on_scene"


def test_two_active_dispatches_need_the_ticket(damkar: Any, actors: Any) -> None:
    first, second = dispatched(actors), dispatched(actors, address="Jl. Lingkar Selatan")
    row = sms("6281200000001", "1")
    assert row.outcome == "which_ticket" and first.incident.ticket in reply_to(row)
    assert second.incident.ticket in reply_to(row) and "Kirim 1 <tiket>" in reply_to(row)
    assert set(Dispatch.objects.values_list("status", flat=True)) == {"requested"}


def test_declining_needs_a_reason(damkar: Any, actors: Any) -> None:
    dispatch = dispatched(actors)
    assert sms("6281200000001", f"0 {dispatch.incident.ticket}").outcome == "reason_missing"
    assert Dispatch.objects.get(pk=dispatch.pk).status == "requested"
    row = sms("6281200000001", f"0 {dispatch.incident.ticket} unit sedang di Merak")
    assert row.outcome == "dispatch_step"
    declined = Dispatch.objects.get(pk=dispatch.pk)
    assert (declined.status, declined.reason) == ("declined", "unit sedang di Merak")


def test_an_unknown_ticket_and_a_closed_one(damkar: Any, actors: Any) -> None:
    assert sms("6281200000001", "1 CLG-2001-999999").outcome == "unknown_ticket"
    dispatch = dispatched(actors)
    sms("6281200000001", f"4 {dispatch.incident.ticket}")
    row = sms("6281200000001", f"2 {dispatch.incident.ticket}")
    assert row.outcome == "refused" and "Tidak ada yang diubah" in reply_to(row)


def test_daftar_by_kelurahan_kecamatan_and_an_ambiguous_or_unknown_name(sms_settings: Any, reference: None) -> None:
    assert sms("081300000001", "DAFTAR Kel. Tegal Ratu").outcome == "subscribed"
    assert Subscriber.objects.get(phone="+6281300000001").kelurahan.name == "Tegal Ratu"
    assert sms("081300000002", "daftar kecamatan citangkil").outcome == "subscribed"  # also a kelurahan's name
    assert sms("081300000003", "daftar pulomerak").outcome == "subscribed"
    row = sms("081300000004", "DAFTAR Atlantis")
    assert row.outcome == "area_unknown" and "Ciwandan" in reply_to(row) and not Subscriber.objects.filter(
        phone="+6281300000004").exists()
    assert sms("081300000001", "daftar jombang wetan").outcome == "subscribed"  # moving updates the same row
    assert Subscriber.objects.get(phone="+6281300000001").kecamatan.name == "Jombang"


def test_stop_help_repeat_throttle_and_a_sender_that_is_not_a_number(sms_settings: Any, reference: None) -> None:
    assert sms("081300000001", "berhenti").outcome == "not_subscribed"
    sms("081300000001", "DAFTAR Kepuh")
    assert sms("081300000001", "STOP").outcome == "stopped" and not Subscriber.objects.get().active
    assert sms("081300000001", "info").outcome == "help"
    again, new = inbound.receive(inbound.Received("gw-same", "081300000001", "112", "info"))
    repeat, new_again = inbound.receive(inbound.Received("gw-same", "081300000001", "112", "info"))
    assert new and not new_again and again.pk == repeat.pk and again.replies.count() == 1
    assert sms("TELKOMSEL", "promo").outcome == "invalid_sender" and not Message.objects.filter(to="TELKOMSEL")
    sms_settings.SMS_REPLIES_PER_HOUR = 5
    for _ in range(3):
        sms("081300000001", "apa")
    row = sms("081300000001", "apa")
    assert "not answered" in row.detail and not row.replies.exists()


def test_the_place_page_shows_the_place_and_nothing_personal(damkar: Any, actors: Any, client: Any) -> None:
    dispatch = dispatched(actors, reporter_name="Siti", reporter_phone="081277778888", description="rumah Pak Ali")
    link = PlaceLink.objects.get(dispatch=dispatch)
    page = client.get(f"/l/{link.code}").content.decode()
    assert "-6.01710" in page and "Jl. Raya Anyer" in page and "Kec. Jombang" in page
    assert not any(secret in page for secret in ("Siti", "081277778888", "Pak Ali"))
    assert client.get("/l/nothing1").status_code == 404
    PlaceLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/l/{link.code}").status_code == 404
    dispatch_sms = Message.objects.get(dispatch=dispatch, purpose=Purpose.DISPATCH)
    assert f"/l/{link.code}" in dispatch_sms.text and "Siti 081277778888" in dispatch_sms.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300), crew_sends=st.booleans())
def test_property_any_text_gets_an_outcome_and_never_an_error(damkar: Any, text: str, crew_sends: bool) -> None:
    row = sms("6281200000001" if crew_sends else "6281300000099", text)
    assert row.outcome and row.outcome != "error"


def test_the_days_report_counts_sms_out_by_purpose_and_state_and_sms_in(damkar: Any, actors: Any) -> None:
    from siaga.reports import compute, export, period
    from siaga.sms.models import MessageStatus

    dispatch = dispatched(actors)  # one dispatch SMS to the crew
    sms("6281200000001", f"1 {dispatch.incident.ticket}")  # a step by SMS, and its confirmation
    sms("6281300000001", "INFO")
    Message.objects.filter(purpose=Purpose.DISPATCH).update(status=MessageStatus.DELIVERED)
    Message.objects.filter(purpose=Purpose.REPLY, to="+6281300000001").update(status=MessageStatus.FAILED)
    day = timezone.localtime(Message.objects.order_by("created_at").first().created_at).date()  # not "today"
    report = compute.build(period.daily(day))
    assert report["sms"]["messages"]["dispatch"] == {"total": 1, "delivered": 1, "failed": 0, "pending": 0}
    assert report["sms"]["messages"]["reply"] == {"total": 2, "delivered": 0, "failed": 1, "pending": 1}
    assert report["sms"]["messages"]["alert"]["total"] == 0
    assert (report["sms"]["inbound"], report["sms"]["dispatch_steps"]) == (2, 1)
    html = export.to_html(report)
    assert "Penugasan" in html and "Sampai di ponsel" in html and "Langkah penugasan lewat SMS: 1" in html
