"""E-mail to the agencies: every active agency's address plus SIAGA_ALERT_EMAILS, over SMTP_URL.

The subject starts with [PERINGATAN] (or [LATIHAN] for an exercise); the body has the Indonesian text,
then the English; the CAP XML is attached as ``application/cap+xml``.
"""

from __future__ import annotations

import smtplib
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from siaga.alerts.channels import ChannelError
from siaga.alerts.models import Alert, Delivery


def _connection() -> Any:
    url = urlsplit(settings.SMTP_URL or "")
    if url.scheme not in ("smtp", "smtps"):
        raise ChannelError(f"SIAGA_SMTP_URL must start with smtp:// or smtps://, not {url.scheme!r}")
    return get_connection("django.core.mail.backends.smtp.EmailBackend", host=url.hostname or "127.0.0.1",
                          port=url.port or (465 if url.scheme == "smtps" else 25),
                          username=unquote(url.username or ""), password=unquote(url.password or ""),
                          use_ssl=url.scheme == "smtps", timeout=10, fail_silently=False)


def subject_of(alert: Alert) -> str:
    from siaga.alerts.capbuild import bare_headline

    kind = "[PEMBATALAN]" if alert.msg_type == "Cancel" else "[PERINGATAN]"
    mark = f"[LATIHAN] {kind}" if alert.exercise else kind
    return f"{mark} {bare_headline(alert.headline)}"[:200]


def body_of(alert: Alert) -> str:
    from siaga.alerts.public import texts_of

    texts = texts_of(alert)
    lines = []
    if alert.exercise:
        lines += ["*** LATIHAN - BUKAN KEJADIAN SEBENARNYA / EXERCISE - NOT A REAL EVENT ***", ""]
    for language in ("id", "en"):
        text = texts.get(language) or {}
        lines += [text.get("headline", ""), "", text.get("description", ""), "", text.get("instruction", ""), ""]
    lines += [f"{settings.PUBLIC_URL}/peringatan/{alert.pk}/", f"CAP: {alert.identifier} ({alert.msg_type})"]
    return "\n".join(lines)


class EmailChannel:
    name = "email"

    def enabled(self) -> bool:
        return bool(settings.SMTP_URL)

    def targets(self, alert: Alert) -> list[str]:
        from siaga.core.models import Agency

        addresses = {a.lower() for a in Agency.objects.filter(active=True).exclude(email="")
                     .values_list("email", flat=True)}
        addresses.update(a.lower() for a in settings.ALERT_EMAILS)
        return sorted(addresses)

    def send(self, delivery: Delivery, alert: Alert) -> dict[str, Any]:
        message = EmailMessage(subject=subject_of(alert), body=body_of(alert), from_email=settings.EMAIL_FROM,
                               to=[delivery.target], connection=_connection(),
                               headers={"X-Siaga-Alert": alert.identifier})
        message.attach(f"{alert.pk}.cap.xml", alert.xml.encode(), "application/cap+xml")
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"SMTP: {exc}") from None
        return {"to": delivery.target}


CHANNEL = EmailChannel()
