"""siaga sms kannel-config | import FILE.csv | send NUMBER TEXT | status"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from siaga.core import audit
from siaga.core.errors import LazyText
from siaga.core.roles import Principal
from siaga.formats import gsm, phone
from siaga.sms import gateway, outbox, subscribers
from siaga.sms.models import Inbound, Message, Purpose, Subscriber


def _say(template: Any, **values: Any) -> str:
    return str(LazyText(template, **values))


class Command(BaseCommand):
    help = "SMS through the gateway: Kannel's configuration, subscribers from CSV, a test message, the counts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("kannel-config", help="the sendsms-user and sms-service groups for kannel.conf")
        load = sub.add_parser("import", help="subscribers from a CSV file (all or nothing)")
        load.add_argument("file")
        send = sub.add_parser("send", help="queue one SMS (a test of the gateway)")
        send.add_argument("number")
        send.add_argument("text")
        sub.add_parser("status", help="messages of the last 24 hours by purpose and status; subscribers")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "kannel-config":
            self._kannel_config()
        elif verb == "import":
            self._import(options["file"])
        elif verb == "send":
            self._send(options["number"], options["text"])
        else:
            self._status()

    def _kannel_config(self) -> None:
        url = urlsplit(settings.SMS_SENDSMS_URL or "http://127.0.0.1:13013/cgi-bin/sendsms")
        lines = [
            "# smsbox: Siaga112 sends through this user (SIAGA_SMS_USERNAME / SIAGA_SMS_PASSWORD)",
            "group = sendsms-user",
            f"username = {settings.SMS_USERNAME or 'siaga112'}",
            "password = <SIAGA_SMS_PASSWORD>",
            f"max-messages = {settings.SMS_MAX_PARTS}",
            "concatenation = true",
            "",
            "# smsbox: every message that comes in goes to Siaga112 (keywords, crews' answers)",
            "group = sms-service",
            "keyword = default",
            "catch-all = true",
            "max-messages = 0",
            "concatenation = true",
            f'get-url = "{gateway.mo_url()}"',
            "",
            f"# smsbox's sendsms-port must be {url.port or 13013}; delivery reports go to "
            f"{gateway.callback_base()}/sms/kannel/dlr/ (dlr-storage in the core group)",
        ]
        self.stdout.write("\n".join(lines))

    def _import(self, name: str) -> None:
        try:
            text = Path(name).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(_say(pgettext_lazy("cli", "cannot read {name}: {problem}"), name=name,
                                    problem=exc)) from None
        result = subscribers.import_csv(text)
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(problem)
            raise CommandError(_say(pgettext_lazy("cli", "{count} problem(s): nothing was imported"),
                                    count=len(result.problems)))
        audit.record(Principal.system("system:cli"), "sms.subscribers_import", object_type="sms.subscriber",
                     object_id=Path(name).name, after={"created": result.created, "updated": result.updated,
                                                       "unchanged": result.unchanged})
        self.stdout.write(_say(pgettext_lazy("cli", "imported: {created} new, {updated} changed, {unchanged} the "
                                                    "same"), created=result.created, updated=result.updated,
                               unchanged=result.unchanged))

    def _send(self, number: str, text: str) -> None:
        if not gateway.configured():
            raise CommandError(_say(pgettext_lazy("cli", "SIAGA_SMS_SENDSMS_URL is not set: SMS is off")))
        to = phone.normalise(number, settings.PHONE_REGION).e164
        if to is None:
            raise CommandError(_say(pgettext_lazy("cli", "{value!r} is not a phone number"), value=number))
        try:
            fitted = gsm.require(text, settings.SMS_MAX_PARTS)
        except gsm.TooLong as exc:
            raise CommandError(_say(pgettext_lazy("cli", "the text needs {parts} parts; at most {limit}"),
                                    parts=exc.parts, limit=exc.limit)) from None
        with transaction.atomic():
            message = outbox.queue(to, fitted, Purpose.REPLY)
            audit.record(Principal.system("system:cli"), "sms.send", message, after={"to": to})
        self.stdout.write(_say(pgettext_lazy("cli", "queued: {key} ({parts} part(s), {encoding}); the sms role "
                                                    "sends it"), key=message.key, parts=fitted.parts,
                               encoding=fitted.encoding))

    def _status(self) -> None:
        since = timezone.now() - timedelta(hours=24)
        rows = (Message.objects.filter(created_at__gte=since).values("purpose", "status")
                .annotate(n=Count("id")).order_by("purpose", "status"))
        for row in rows:
            self.stdout.write(f"{row['purpose']:<9} {row['status']:<10} {row['n']:>7}")
        self.stdout.write(_say(pgettext_lazy("cli", "in: {count} message(s) in 24 hours; subscribers: {active} "
                                                    "active of {total}"),
                               count=Inbound.objects.filter(received_at__gte=since).count(),
                               active=Subscriber.objects.filter(active=True).count(),
                               total=Subscriber.objects.count()))
