"""What the public and other systems see of an alert: its summary, its texts, the active warnings."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils import timezone

from siaga.alerts.capbuild import bare_headline
from siaga.alerts.models import Alert, Thread
from siaga.core.warnings import Warning
from siaga.formats import cap
from siaga.formats.quake import iso_utc


@lru_cache(maxsize=512)
def _texts(alert_id: int, xml: str) -> dict[str, dict[str, str]]:
    parsed = cap.parse(xml.encode())
    texts: dict[str, dict[str, str]] = {}
    for info in parsed.infos:
        language = info.language.split("-")[0].lower()
        texts.setdefault(language, {"event": info.event, "headline": info.headline or "",
                                    "description": info.description or "", "instruction": info.instruction or ""})
    return texts


def texts_of(alert: Alert) -> dict[str, dict[str, str]]:
    """``{"id": {...}, "en": {...}}``: event, headline, description and instruction per language."""
    return _texts(alert.pk, alert.xml)


def public_summary(alert: Alert) -> dict[str, Any]:
    texts = texts_of(alert)
    return {
        "id": alert.pk,
        "thread": alert.thread_id,
        "identifier": alert.identifier,
        "sender": alert.sender,
        "sent": iso_utc(alert.sent),
        "status": alert.status,
        "exercise": alert.exercise,
        "msg_type": alert.msg_type,
        "display": alert.display,
        "ews_level": alert.ews_level or None,
        "event": alert.event,
        "severity": alert.severity,
        "urgency": alert.urgency,
        "headline": alert.headline,
        "headline_en": alert.headline_en,
        "instruction": texts.get("id", {}).get("instruction", ""),
        "instruction_en": texts.get("en", {}).get("instruction", ""),
        "expires": iso_utc(alert.expires) if alert.expires else None,
        "area_codes": alert.area_codes,
        "postcodes": alert.postcodes,
        "cap_url": f"{settings.PUBLIC_URL}/peringatan/{alert.pk}.xml",
        "page_url": f"{settings.PUBLIC_URL}/peringatan/{alert.pk}/",
    }


def active_threads() -> list[Thread]:
    now = timezone.now()
    threads = Thread.objects.filter(active=True).select_related("current", "hazard_event").order_by("-updated_at")
    return [t for t in threads if t.current is not None and (t.expires_at is None or t.expires_at > now)
            and t.display != "none"]


def active_warnings() -> list[Warning]:
    """The provider the wall and the warnings API read (see siaga.core.warnings)."""
    result: list[Warning] = []
    for thread in active_threads():
        alert = thread.current
        assert alert is not None
        headline = bare_headline(alert.headline)  # the wall marks exercises itself
        event = thread.hazard_event
        review = list(event.review) if event is not None and event.needs_review else []
        result.append(Warning(id=str(alert.pk), headline=headline, level=thread.display,
                              issued_at=iso_utc(alert.sent), exercise=alert.exercise, review=review,
                              ews_level=alert.ews_level, event=alert.event, area_codes=list(alert.area_codes),
                              expires=iso_utc(alert.expires) if alert.expires else None))
    return result
