"""The ``sms`` alert channel: a warning to every SMS subscriber of the warned kecamatan.

Targets are the active subscribers whose kecamatan the alert names (a subscriber by kelurahan has its
kecamatan too), and for an Update also everyone who got an earlier message of the same warning and is still
subscribed; a Cancel reaches exactly the people the warning reached. What of an older message has not gone
out when a newer one is issued is not sent (its deliveries end "superseded"). One delivery per number (made by
the lane from the message's one ``subscribers`` delivery, outside the issuing transaction), each try a
:class:`~siaga.sms.models.Message`.

The text is Indonesian first, marked LATIHAN on an exercise, with the link to the public page of the
warning; the English headline follows when it fits. A warning the system composes itself is cut at a word
to fit ``SIAGA_SMS_MAX_PARTS`` (3) parts: it is never held back for its length. A manual draft whose SMS would
need more parts is refused when it is written, with the count (:meth:`SmsChannel.check_draft`), so the
person can shorten it.

The channel has a lane of its own (``own_lane``): its deliveries are sent by the ``sms`` role, in batches
(:meth:`SmsChannel.send_many`), never by the dispatcher that sends the other channels, so ten thousand
SMS never hold up the EWS carousel or the sirens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils.translation import pgettext_lazy

from siaga.alerts.channels import ChannelError
from siaga.alerts.models import Alert, Delivery, DeliveryStatus, Thread
from siaga.formats import gsm
from siaga.sms import gateway, outbox
from siaga.sms.models import Message, Purpose, Subscriber

KINDS = {"Alert": "PERINGATAN", "Update": "PEMBARUAN", "Cancel": "PEMBATALAN"}
FANOUT = "subscribers"  # the one delivery an issued message gets at first: the lane makes one per number


def _tail(alert_id: int | None) -> str:
    link = f"{settings.PUBLIC_URL}/peringatan/{alert_id}/" if alert_id else f"{settings.PUBLIC_URL}/peringatan/"
    return f" Info: {link} -{settings.SMS_SIGNATURE}"


def _head(msg_type: str, exercise: bool, level: str) -> str:
    mark = "LATIHAN - " if exercise else ""
    return f"{mark}{KINDS.get(msg_type, 'PERINGATAN')}{' ' + level if level and msg_type != 'Cancel' else ''}: "


def _body(headline: str, instruction: str) -> str:
    from siaga.alerts.capbuild import bare_headline

    text = bare_headline(headline).strip().rstrip(".")
    return f"{text}. {instruction.strip()}".strip() if instruction.strip() else f"{text}."


def text_of(alert: Alert) -> str:
    """The SMS of an issued message, fitted to the parts allowed (cut at a word when the system wrote it)."""
    from siaga.alerts.public import texts_of

    texts = texts_of(alert)
    instruction = (texts.get("id") or {}).get("instruction", "") or alert.instruction
    core = _head(alert.msg_type, alert.exercise, alert.ews_level) + _body(alert.headline, instruction)
    tail = _tail(alert.pk)
    english = alert.headline_en and alert.headline_en != alert.headline
    if english:
        from siaga.alerts.capbuild import bare_headline

        mark = "EXERCISE - " if alert.exercise else ""
        both = f"{core} / EN: {mark}{bare_headline(alert.headline_en)}"
        if gsm.fit(both + tail).parts <= settings.SMS_MAX_PARTS:
            return both + tail
    return gsm.shorten(core, settings.SMS_MAX_PARTS, tail)


class SmsChannel:
    name = "sms"
    own_lane = True

    def enabled(self) -> bool:
        return gateway.configured()

    def targets(self, alert: Alert) -> list[str]:
        """One delivery, ``subscribers``, in the issuing transaction: the lane expands it into one delivery
        per number (:meth:`numbers`). Ten thousand rows written in the transaction that issues a tsunami
        warning would hold up its commit, and with it the EWS carousel, by seconds."""
        return [FANOUT]

    def numbers(self, alert: Alert) -> list[str]:
        """An Alert or an Update: the subscribers of its kecamatan; an Update or a Cancel: also everyone an
        earlier message of the warning reached (a Cancel only them: nobody hears of a warning's end who never
        heard of the warning)."""
        area: set[str] = set()
        if alert.msg_type != "Cancel":
            area = set(Subscriber.objects.filter(active=True, kecamatan__code__in=alert.area_codes)
                       .values_list("phone", flat=True))
        if alert.msg_type != "Alert":  # everyone an earlier message of the warning reached
            earlier = set(Delivery.objects.filter(alert__thread_id=alert.thread_id, channel=self.name,
                                                  status=DeliveryStatus.SENT)
                          .exclude(target=FANOUT).values_list("target", flat=True))
            area |= set(Subscriber.objects.filter(active=True, phone__in=earlier).values_list("phone", flat=True))
        return sorted(area)

    def expand(self, delivery: Delivery, alert: Alert) -> dict[str, Any]:
        """The ``subscribers`` delivery becomes one delivery per number (existing rows are left alone)."""
        from django.utils import timezone

        now = timezone.now()
        numbers = self.numbers(alert)
        Delivery.objects.bulk_create([Delivery(alert=alert, channel=self.name, target=number, next_attempt_at=now,
                                               created_at=now) for number in numbers],
                                     ignore_conflicts=True, batch_size=2000)
        return {"numbers": len(numbers)}

    def check_draft(self, data: dict[str, Any]) -> None:
        """A person's draft whose SMS would need more than the parts allowed is refused with the count."""
        from siaga.core.errors import ValidationFailed

        text = (_head("Alert", bool(data.get("exercise")), "AWAS")
                + _body(str(data.get("headline") or ""), str(data.get("instruction") or "")) + _tail(None) + "000000/")
        fitted = gsm.fit(text)
        if fitted.parts > settings.SMS_MAX_PARTS:
            raise ValidationFailed(
                pgettext_lazy("error", "as an SMS the headline and instruction need {parts} parts ({units} "
                              "characters, {encoding}); at most {limit} are allowed: shorten them"),
                field="instruction", parts=fitted.parts, units=fitted.units, encoding=fitted.encoding,
                limit=settings.SMS_MAX_PARTS)

    def send(self, delivery: Delivery, alert: Alert) -> dict[str, Any]:
        error, result = self.send_many([delivery], {alert.pk: alert})[delivery.pk]
        if error:
            raise ChannelError(error)
        return result

    def send_many(self, deliveries: Sequence[Delivery], alerts: dict[int, Alert]
                  ) -> dict[int, tuple[str, dict[str, Any]]]:
        """Hand a batch to the gateway: (error, result) per delivery id; an error has it tried again."""
        outcome: dict[int, tuple[str, dict[str, Any]]] = {}
        # a warning cancelled or updated while its SMS still go out: the rest of the old message is not sent
        # (a false alarm cancelled after half a minute must not go on reaching thousands for minutes)
        current = dict(Thread.objects.filter(pk__in={a.thread_id for a in alerts.values()})
                       .values_list("pk", "current_id"))
        for delivery in [d for d in deliveries if current.get(alerts[d.alert_id].thread_id) != d.alert_id]:
            outcome[delivery.pk] = ("", {"superseded": "a newer message of this warning was issued"})
        for delivery in [d for d in deliveries if d.target == FANOUT and d.pk not in outcome]:
            outcome[delivery.pk] = ("", self.expand(delivery, alerts[delivery.alert_id]))
        deliveries = [d for d in deliveries if d.pk not in outcome]
        texts: dict[int, gsm.Fitted] = {}
        messages = []
        for delivery in deliveries:
            alert = alerts[delivery.alert_id]
            if alert.pk not in texts:
                texts[alert.pk] = gsm.fit(text_of(alert))
            fitted = texts[alert.pk]
            messages.append(Message(purpose=Purpose.ALERT, to=delivery.target, text=fitted.text,
                                    encoding=fitted.encoding, parts=fitted.parts, delivery=delivery,
                                    attempt=delivery.attempts + 1))
        Message.objects.bulk_create(messages)
        saved = list(Message.objects.filter(key__in=[m.key for m in messages]))
        answers = outbox.submit(saved)
        by_delivery = {m.delivery_id: m for m in saved}
        for delivery in deliveries:
            message = by_delivery[delivery.pk]
            answer = answers[message.pk]
            result = {"message": str(message.key), "parts": message.parts, "encoding": message.encoding,
                      "gateway": answer.text}
            outcome[delivery.pk] = ("", result) if answer.accepted else (answer.text or "refused", result)
        return outcome


CHANNEL = SmsChannel()
