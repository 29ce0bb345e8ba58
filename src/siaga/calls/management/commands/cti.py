"""siaga cti asterisk: connect to Asterisk's AMI and feed 112 calls into Siaga112 as CTI events."""

import asyncio
import logging
import os
from typing import Any

from asgiref.sync import sync_to_async
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.calls.ami import AmiTranslator, HttpSink, run_adapter
from siaga.core.api_support import thread_connection
from siaga.core.errors import LazyText


class Command(BaseCommand):
    help = "CTI adapters. `asterisk`: read AMI events, post CTI events (over HTTP or straight into the database)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        ast = sub.add_parser("asterisk", help="the Asterisk AMI adapter")
        ast.add_argument("--host", default="127.0.0.1")
        ast.add_argument("--port", type=int, default=5038)
        ast.add_argument("--user", required=True, help="AMI username (manager.conf)")
        ast.add_argument("--secret", default=os.environ.get("SIAGA_AMI_SECRET"),
                         help="AMI secret (or SIAGA_AMI_SECRET, which keeps it out of the process list)")
        ast.add_argument("--extensions", default="112", help="emergency extensions, comma separated")
        ast.add_argument("--all-calls", action="store_true", help="treat every inbound call as a 112 call")
        ast.add_argument("--url", help="post to this Siaga112 (e.g. http://127.0.0.1:8112) ...")
        ast.add_argument("--token", default=os.environ.get("SIAGA_PBX_TOKEN"),
                         help="... with this PBX token (or SIAGA_PBX_TOKEN)")
        ast.add_argument("--integration", help="or write straight into this database as integration NAME")

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("siaga").setLevel(logging.INFO)
        if not options["secret"]:
            raise CommandError(str(pgettext_lazy("cli", "--secret (or SIAGA_AMI_SECRET) is required")))
        translator = AmiTranslator(options["extensions"].split(","), all_calls=options["all_calls"])
        if options["url"]:
            if not options["token"]:
                raise CommandError(str(pgettext_lazy("cli", "--url needs --token (or SIAGA_PBX_TOKEN)")))
            sink: Any = HttpSink(options["url"], options["token"])
        elif options["integration"]:
            sink = _direct_sink(options["integration"])
        else:
            raise CommandError(str(pgettext_lazy("cli", "give --url and --token, or --integration")))
        self.stdout.write(str(LazyText(
            pgettext_lazy("cli", "AMI adapter: {value}:{value2} -> {value3}"), value=options['host'],
            value2=options['port'], value3=options['url'] or 'database (' + options['integration'] + ')')))
        asyncio.run(run_adapter(options["host"], options["port"], options["user"], options["secret"], sink,
                                translator))


def _direct_sink(name: str) -> Any:
    from siaga.calls.actions import do_ingest_cti_event
    from siaga.core.models import Integration
    from siaga.formats import cti

    integration = Integration.objects.filter(name=name, kind=Integration.Kind.PBX, active=True).first()
    if integration is None:
        raise CommandError(str(LazyText(pgettext_lazy("cli", "no active PBX integration {name!r}"), name=name)))

    @sync_to_async
    @thread_connection
    def store(payload: dict[str, Any]) -> None:
        do_ingest_cti_event(integration, cti.validate(payload), payload)

    return store
