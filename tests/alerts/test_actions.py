"""Alert actions: two-person approval of manual alerts, supervisor Update / Cancel at once, the supervisor's
hold on automatic changes, immutability of issued messages, drill marking, external CAP."""

from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from siaga.alerts import actions
from siaga.alerts.models import Alert, DraftStatus, Thread
from siaga.core.errors import Conflict, Forbidden, ValidationFailed
from siaga.formats import cap
from tests.alerts.conftest import issue
from tests.datafiles import CAP_EXAMPLES

pytestmark = pytest.mark.django_db
EXAMPLES = CAP_EXAMPLES
DRAFT = {"hazard": "kimia", "display": "fullscreen", "severity": "Extreme", "response": "Shelter",
         "headline": "Kebocoran amonia di kawasan industri Ciwandan",
         "description": "Kebocoran gas amonia dari pabrik di Jl. Raya Anyer.",
         "instruction": "Tetap di dalam ruangan, tutup jendela dan pintu, matikan AC.",
         "area_codes": ["36.72.02"]}


def test_manual_alert_needs_a_second_person(actors: Any) -> None:
    operator, supervisor = actors["operator"].principal, actors["supervisor"].principal
    draft = actions.do_draft_create(operator, DRAFT)
    with pytest.raises(Conflict):
        actions.do_draft_approve(supervisor, draft.pk)  # not submitted yet
    actions.do_draft_submit(operator, draft.pk)
    with pytest.raises(Forbidden):
        actions.do_draft_approve(operator, draft.pk)  # an operator never approves
    own = actions.do_draft_create(supervisor, DRAFT)
    actions.do_draft_submit(supervisor, own.pk)
    with pytest.raises(Forbidden, match="another person"):
        actions.do_draft_approve(supervisor, own.pk)
    alert = actions.do_draft_approve(supervisor, draft.pk)
    assert alert.created_by == actors["operator"].user and alert.approved_by == actors["supervisor"].user
    assert (alert.msg_type, alert.status, alert.display, alert.ews_level) == ("Alert", "Actual", "fullscreen", "AWAS")
    parsed = cap.parse(alert.xml.encode())
    assert cap.validate(alert.xml.encode()) == []
    assert parsed.infos[0].categories == ["CBRNE"] and parsed.infos[0].response_types == ["Shelter"]
    assert [a.geocodes[0] for a in parsed.infos[0].areas] == [("KEMENDAGRI", "36.72.02")]
    assert alert.postcodes and all(p.startswith("424") for p in alert.postcodes)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.APPROVED and draft.alert == alert
    with pytest.raises(Conflict):
        actions.do_draft_approve(actors["admin"].principal, draft.pk)  # approved once only


@pytest.mark.parametrize(("change", "field"), [
    ({"hazard": "meteor"}, "hazard"), ({"display": "none"}, "display"), ({"severity": "Huge"}, "severity"),
    ({"headline": ""}, "headline"), ({"instruction": " "}, "instruction"), ({"area_codes": ["36.72.99"]}, "area_codes"),
    ({"expires_hours": 100}, "expires_hours"), ({"msg_type": "Update"}, "thread_id"),
])
def test_bad_drafts_are_refused_naming_the_field(actors: Any, change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        actions.do_draft_create(actors["operator"].principal, {**DRAFT, **change})
    assert caught.value.field == field


def test_reject_needs_a_reason(actors: Any) -> None:
    draft = actions.do_draft_create(actors["operator"].principal, DRAFT)
    actions.do_draft_submit(actors["operator"].principal, draft.pk)
    with pytest.raises(ValidationFailed):
        actions.do_draft_reject(actors["supervisor"].principal, draft.pk, " ")
    rejected = actions.do_draft_reject(actors["supervisor"].principal, draft.pk, "alamat pabrik salah")
    assert rejected.status == DraftStatus.REJECTED and rejected.decision_note == "alamat pabrik salah"
    assert not Alert.objects.exists()


def test_update_and_cancel_drafts_chain_the_manual_alert(actors: Any) -> None:
    first = issue(actors)
    update = actions.do_draft_create(actors["operator"].principal, {
        **DRAFT, "hazard": "banjir", "display": "ticker", "severity": "Severe", "thread_id": first.thread_id,
        "headline": "Banjir meluas ke Kebondalem", "area_codes": ["36.72.05"]})
    assert update.msg_type == "Update"
    actions.do_draft_submit(actors["operator"].principal, update.pk)
    second = actions.do_draft_approve(actors["supervisor"].principal, update.pk)
    assert second.references == first and second.thread_id == first.thread_id
    assert [str(r) for r in cap.parse(second.xml.encode()).references] == [
        f"{first.sender},{first.identifier},{first.sent_text}"]
    cancel = actions.do_cancel_thread(actors["supervisor"].principal, first.thread_id, "air sudah surut")
    assert cancel.msg_type == "Cancel" and cancel.references == second
    thread = Thread.objects.get(pk=first.thread_id)
    assert not thread.active and thread.current == cancel
    with pytest.raises(Conflict):
        actions.do_cancel_thread(actors["supervisor"].principal, first.thread_id, "lagi")


def test_issued_alerts_are_immutable(actors: Any) -> None:
    alert = issue(actors)
    alert.headline = "diubah"
    with pytest.raises(PermissionError):
        alert.save()
    with pytest.raises(PermissionError):
        alert.delete()
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        Alert.objects.filter(pk=alert.pk).update(headline="diubah lewat SQL")
    assert Alert.objects.get(pk=alert.pk).headline != "diubah lewat SQL"


def test_exercise_is_marked_on_the_cap(actors: Any) -> None:
    alert = issue(actors, exercise=True)
    parsed = cap.parse(alert.xml.encode())
    assert parsed.status == "Exercise" and "LATIHAN" in (parsed.note or "")
    assert parsed.infos[0].headline.startswith("[LATIHAN]") and parsed.infos[1].headline.startswith("[EXERCISE]")


@pytest.mark.django_db(transaction=True)
def test_supervisor_cancels_an_automatic_warning_and_holds_it(feeds: Any, actors: Any) -> None:
    feeds.publish("inatews", "inatews_drill_selat_sunda_PD2.json")  # SIAGA for Cilegon
    feeds.poll("warning")
    [first] = Alert.objects.all()
    assert first.ews_level == "SIAGA"
    with pytest.raises(Forbidden):
        actions.do_cancel_thread(actors["operator"].principal, first.thread_id, "salah")
    cancel = actions.do_cancel_thread(actors["supervisor"].principal, first.thread_id, "uji sistem, bukan kejadian")
    assert cancel.msg_type == "Cancel" and cancel.created_by == actors["supervisor"].user
    # BMKG says the same again (a revision with the same level): the supervisor's cancel stands
    pd2 = feeds.replay.state.documents["inatews"].body_json
    import json

    revised = json.loads(pd2)
    revised["info"]["depth"] = "12 Km"
    feeds.replay.state.publish("inatews", record=revised)
    feeds.poll("warning")
    assert Alert.objects.count() == 2
    # but an escalation (AWAS) always goes out
    revised["info"]["wzarea"][1]["level"] = "AWAS"
    from datetime import datetime, timedelta

    from siaga.formats.quake import WIB

    later = datetime.strptime(revised["sent"][:-3], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=WIB) + timedelta(minutes=1)
    revised["sent"] = later.strftime("%Y-%m-%dT%H:%M:%S") + "WIB"  # a newer message
    feeds.replay.state.publish("inatews", record=revised)
    feeds.poll("warning")
    latest = Alert.objects.order_by("-id").first()
    assert Alert.objects.count() == 3 and latest.ews_level == "AWAS" and latest.msg_type == "Alert"


@pytest.mark.django_db(transaction=True)
def test_supervisor_update_at_once(feeds: Any, actors: Any) -> None:
    feeds.publish("autogempa", "autogempa_drill_selat_sunda_m5_felt.json")
    feeds.poll("autogempa")
    [first] = Alert.objects.all()
    update = actions.do_update_thread(actors["supervisor"].principal, first.thread_id, display="fullscreen",
                                      instruction="Jauhi pantai Anyer dan Merak sampai ada kabar resmi.")
    assert (update.msg_type, update.display, update.ews_level) == ("Update", "fullscreen", "AWAS")
    assert "Jauhi pantai Anyer" in update.instruction
    with pytest.raises(ValidationFailed):
        actions.do_update_thread(actors["supervisor"].principal, first.thread_id, display="loud")


def test_external_cap_from_an_atom_list(reference: Any) -> None:
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from siaga.alerts.external import ingest_document
    from siaga.alerts.models import ExternalAlert

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(EXAMPLES), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    files = sorted(p.name for p in EXAMPLES.iterdir())
    atom = ('<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
            + "".join(f'<entry><id>{n}</id><link type="application/cap+xml" href="{n}"/></entry>' for n in files)
            + '<entry><id>missing</id><link href="missing.cap"/></entry></feed>').encode()

    class FeedRow:
        name, url, pk = "test-cap", base + "index.atom", None

    try:
        stored = ingest_document(FeedRow(), atom)
        assert len(stored) == len(files) == ExternalAlert.objects.count()
        assert all(a.valid for a in stored)
        assert ingest_document(FeedRow(), atom) == []  # fetched once each
        invalid = cap.to_xml(cap.parse((EXAMPLES / files[0]).read_bytes())).replace(b"<status>", b"<status>X")
        from siaga.alerts.external import store

        kept = store(invalid.replace(b"<identifier>", b"<identifier>other-"), None, "")
        assert kept is not None and not kept.valid and any("status" in p for p in kept.problems)
    finally:
        server.shutdown()
