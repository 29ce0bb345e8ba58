"""Pages: the public warnings (no login: they are public), and the warnings desk of the command centre.

Public: ``/peringatan/`` (current and past warnings, how to use 112 wisely), ``/peringatan/<id>/``,
``/peringatan/<id>.xml`` (the CAP message as issued), ``/peringatan/<id>.wav`` (the spoken warning),
``/peringatan/feed.atom`` (Atom feed of CAP alerts) and ``/peringatan/stream`` (SSE, in the ASGI app).

Desk (logged in): ``/peringatan/kelola/``: warnings in force with Update / Cancel for supervisors, manual
drafts and their approval by a second person, quakes seen and why they show or not, feed health, deliveries
per channel with resend for admins, CAP from other senders.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from siaga.alerts import actions
from siaga.alerts.channels.tts import wav_path
from siaga.alerts.models import Alert, Delivery, DeliveryStatus, Display, Draft, DraftStatus, ExternalAlert, Thread
from siaga.alerts.public import active_threads, texts_of
from siaga.core.errors import ActionError
from siaga.core.models import Kecamatan
from siaga.core.roles import MANAGERS, STAFF, Principal, Role
from siaga.formats import cap
from siaga.formats.quake import iso_utc
from siaga.hazards.actions import do_review_event
from siaga.hazards.models import Feed, HazardEvent
from siaga.hazards.policy import REASON_TEXT

PAST = 30


def _alert_view(alert: Alert) -> dict[str, Any]:
    texts = texts_of(alert)
    return {"alert": alert, "id": texts.get("id", {}), "en": texts.get("en", {}),
            "has_audio": wav_path(alert.pk).exists()}


@require_GET
def public_index(request: HttpRequest) -> HttpResponse:
    active = [_alert_view(t.current) for t in active_threads() if t.current is not None]
    active_ids = {view["alert"].thread_id for view in active}
    past = [_alert_view(a) for a in Alert.objects.exclude(thread_id__in=active_ids).order_by("-sent")[:PAST]]
    return render(request, "alerts/public_index.html", {"active": active, "past": past})


@require_GET
def public_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.select_related("thread"), pk=alert_id)
    chain = [_alert_view(a) for a in alert.thread.alerts.order_by("sent", "id")]
    parsed = cap.parse(alert.xml.encode())
    areas = parsed.infos[0].areas if parsed.infos else []
    # What became of this warning, said at the top: cancelled (by a supervisor or BMKG's end), superseded by
    # a newer message, expired, or still in force.
    last = chain[-1]["alert"]
    cancelled = last if last.msg_type == "Cancel" else None
    newer = last if last.pk != alert.pk and cancelled is None else None
    expired = cancelled is None and alert.expires is not None and alert.expires <= timezone.now()
    return render(request, "alerts/public_detail.html", {**_alert_view(alert), "chain": chain, "areas": areas,
                                                         "cancelled": cancelled, "newer": newer, "expired": expired})


@require_GET
def public_cap(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=alert_id)
    response = HttpResponse(alert.xml.encode(), content_type="application/cap+xml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="siaga112-{alert.pk}.cap.xml"'
    return response


@require_GET
def public_wav(request: HttpRequest, alert_id: int) -> FileResponse:
    get_object_or_404(Alert, pk=alert_id)
    path = wav_path(alert_id)
    if not path.exists():
        raise Http404("no audio for this warning (yet)")
    return FileResponse(path.open("rb"), content_type="audio/wav", filename=f"siaga112-{alert_id}.wav")


@require_GET
def public_atom(request: HttpRequest) -> HttpResponse:
    """An Atom feed of the CAP messages: each entry links to its CAP file (application/cap+xml).

    What it lists is what an aggregator (Google Public Alerts, the province, a broadcaster) needs: every
    message of a warning still in force, however old or however many came after it, and every other
    message of the last SIAGA_CAP_FEED_HOURS (48: Google asks that cancelled, updated or expired alerts
    stay 24-48 hours, then leave). At most SIAGA_CAP_FEED_MAX entries (the oldest that are not in force
    go first) keep the feed under Google's 900 KB."""
    alerts = feed_alerts()
    base = settings.PUBLIC_URL
    updated = iso_utc(alerts[0].sent) if alerts else "2026-01-01T00:00:00Z"
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="id">',
             f"<id>{escape(base)}/peringatan/feed.atom</id>",
             f"<title>{escape(_('Peringatan dini'))} - {escape(settings.CITY_NAME)} (Siaga112)</title>",
             f"<updated>{updated}</updated>",
             f"<author><name>{escape(settings.CAP_SENDER_NAME)}</name></author>",
             f'<link rel="self" type="application/atom+xml" href={quoteattr(base + "/peringatan/feed.atom")}/>',
             f'<link rel="alternate" type="text/html" href={quoteattr(base + "/peringatan/")}/>']
    for alert in alerts:
        texts = texts_of(alert)
        title = alert.headline
        summary = texts.get("id", {}).get("instruction", "")
        if len(summary) > 400:  # the CAP file has it whole; an entry stays small (500 of them under 900 KB)
            summary = summary[:399].rsplit(" ", 1)[0] + "…"
        parts += [
            "<entry>",
            f"<id>{escape(alert.identifier)}</id>",
            f"<title>{escape(title)}</title>",
            f"<updated>{iso_utc(alert.sent)}</updated>",
            f"<published>{iso_utc(alert.sent)}</published>",
            f'<link rel="alternate" type="text/html" href={quoteattr(f"{base}/peringatan/{alert.pk}/")}/>',
            f'<link rel="related" type="application/cap+xml" href={quoteattr(f"{base}/peringatan/{alert.pk}.xml")}/>',
            f'<category term={quoteattr(alert.msg_type)} label={quoteattr(alert.status)}/>',
            f"<summary>{escape(summary)}</summary>",
            "</entry>",
        ]
    parts.append("</feed>")
    return HttpResponse("\n".join(parts).encode(), content_type="application/atom+xml; charset=utf-8")


def feed_alerts(now: Any = None) -> list[Alert]:
    now = now or timezone.now()
    in_force = Thread.objects.filter(active=True, current__isnull=False).exclude(expires_at__lte=now)
    keep = set(Alert.objects.filter(thread__in=in_force).values_list("pk", flat=True))
    recent = (Alert.objects.filter(sent__gte=now - dt.timedelta(hours=settings.CAP_FEED_HOURS))
              .exclude(pk__in=keep).order_by("-sent", "-id").values_list("pk", flat=True))
    room = max(settings.CAP_FEED_MAX - len(keep), 0)
    chosen = keep | set(list(recent[:room]))
    return list(Alert.objects.filter(pk__in=chosen).order_by("-sent", "-id"))


# --------------------------------------------------------------------------------------------------------
# the warnings desk
# --------------------------------------------------------------------------------------------------------

def _principal(request: HttpRequest) -> Principal:
    return Principal.for_user(request.user)


DESK_ROLES = (*STAFF, Role.WALL)


def desk_action(*roles: Role) -> Any:
    """Login, then the role (403 otherwise), then POST only: the order the permission table tests."""

    def decorate(view: Any) -> Any:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _principal(request).has(*roles):
                return HttpResponseForbidden(_("Peran Anda tidak boleh melakukan ini."))
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, *args, **kwargs)  # type: ignore[no-any-return]

        return wrapped

    return decorate


@login_required
@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    if not principal.has(*DESK_ROLES):
        return HttpResponseForbidden(_("Halaman ini untuk pusat panggilan dan command center."))
    now = timezone.now()
    threads = list(Thread.objects.select_related("current").order_by("-updated_at")[:20])
    recent_alerts = list(Alert.objects.order_by("-sent")[:10])
    delivery_rows = Delivery.objects.filter(alert__in=recent_alerts).order_by("alert_id", "channel", "target")
    by_alert: dict[int, list[Delivery]] = {}
    for row in delivery_rows:
        by_alert.setdefault(row.alert_id, []).append(row)
    context = {
        "threads": threads,
        "active": [t for t in threads if t.active],
        "recent": [{"alert": a, "deliveries": by_alert.get(a.pk, [])} for a in recent_alerts],
        "drafts": Draft.objects.select_related("author", "approver", "thread").exclude(
            status=DraftStatus.APPROVED).order_by("-created_at")[:20],
        "events": HazardEvent.objects.order_by("-origin_time")[:15],
        "to_review": [{"event": e, "reasons": [reason_text(c) for c in e.review]}
                      for e in HazardEvent.objects.exclude(review=[]).filter(reviewed_at__isnull=True)
                      .order_by("-origin_time")[:10] if e.needs_review],
        "feeds": [{"feed": f, "status": f.status(now), "problems": f.problems(now)}
                  for f in Feed.objects.filter(enabled=True).order_by("kind", "name")],
        "external": ExternalAlert.objects.order_by("-sent")[:10],
        "kecamatan": Kecamatan.objects.order_by("name"),
        "hazards": Draft.HAZARDS,
        "can_manage": principal.has(*MANAGERS),
        "can_write": principal.has(*STAFF),
        "is_admin": principal.has(Role.ADMIN),
        "me": request.user.pk,
        "failed_statuses": (DeliveryStatus.RETRYING, DeliveryStatus.GAVE_UP),
    }
    return render(request, "alerts/desk.html", context)


def _done(request: HttpRequest, ok: str) -> HttpResponse:
    messages.success(request, ok)
    return redirect(reverse("alerts-desk"))


def _act(request: HttpRequest, fn: Any, ok: str) -> HttpResponse:
    try:
        fn()
    except ActionError as exc:
        messages.error(request, exc.localized())
        return redirect(reverse("alerts-desk"))
    return _done(request, ok)


@desk_action(*MANAGERS)
def desk_update(request: HttpRequest, thread_id: int) -> HttpResponse:
    display = request.POST.get("display") or None
    return _act(request, lambda: actions.do_update_thread(
        _principal(request), thread_id, display=display, headline=request.POST.get("headline") or None,
        instruction=request.POST.get("instruction") or None, note=request.POST.get("note", "")),
        _("Pembaruan peringatan telah disiarkan."))


@desk_action(*MANAGERS)
def desk_cancel(request: HttpRequest, thread_id: int) -> HttpResponse:
    return _act(request, lambda: actions.do_cancel_thread(_principal(request), thread_id,
                                                         request.POST.get("reason", "")),
                _("Pembatalan peringatan telah disiarkan."))


@desk_action(*STAFF)
def desk_draft(request: HttpRequest) -> HttpResponse:
    data: dict[str, Any] = {name: request.POST.get(name, "") for name in (
        "hazard", "display", "severity", "urgency", "certainty", "response", "headline", "description",
        "instruction", "headline_en", "description_en", "instruction_en")}
    data["area_codes"] = request.POST.getlist("area_codes")
    data["expires_hours"] = int(request.POST.get("expires_hours") or 6)
    data["exercise"] = request.POST.get("exercise") == "on"
    if request.POST.get("thread_id"):
        data["thread_id"] = int(request.POST["thread_id"])
        data["msg_type"] = request.POST.get("msg_type", "Update")

    def create_and_submit() -> None:
        draft = actions.do_draft_create(_principal(request), data)
        actions.do_draft_submit(_principal(request), draft.pk)

    return _act(request, create_and_submit, _("Draf dikirim untuk persetujuan orang kedua."))


@desk_action(*MANAGERS)
def desk_decide(request: HttpRequest, draft_id: int) -> HttpResponse:
    if request.POST.get("decision") == "approve":
        return _act(request, lambda: actions.do_draft_approve(_principal(request), draft_id),
                    _("Disetujui: peringatan telah disiarkan."))
    return _act(request, lambda: actions.do_draft_reject(_principal(request), draft_id,
                                                        request.POST.get("reason", "")),
                _("Draf dikembalikan."))


@desk_action(*MANAGERS)
def desk_review(request: HttpRequest, event_id: int) -> HttpResponse:
    return _act(request, lambda: do_review_event(_principal(request), event_id, request.POST.get("note", "")),
                _("Ditandai sudah ditinjau."))


@desk_action(Role.ADMIN)
def desk_resend(request: HttpRequest) -> HttpResponse:
    ids = [int(v) for v in request.POST.getlist("delivery") if v.isdigit()]
    return _act(request, lambda: actions.do_resend(_principal(request), ids), _("Dikirim ulang."))


def reason_text(code: str) -> str:
    """A policy reason in the page's language (Indonesian first, English second)."""
    texts = REASON_TEXT.get(code)
    if texts is None:
        return code
    return texts[0] if (get_language() or "id").startswith("id") else texts[1]


def display_label(value: str) -> str:
    return str(dict(Display.choices).get(value, value))
