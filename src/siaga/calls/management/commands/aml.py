"""siaga aml parse TEXT: print an AML message (SMS or HTTPS form) as JSON; exit 1 if it is malformed."""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import LazyText
from siaga.formats import aml


class Command(BaseCommand):
    help = "Parse AML (ETSI TS 103 625 / Android ELS) messages."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        parse = sub.add_parser("parse", help="parse one message; '-' reads it from standard input")
        parse.add_argument("text")

    def handle(self, *args: Any, **options: Any) -> None:
        text = sys.stdin.read() if options["text"] == "-" else options["text"]
        try:
            fix = aml.parse(text)
        except aml.AmlError as exc:
            where = f" (field {exc.field})" if exc.field else ""
            self.stderr.write(str(LazyText(
                pgettext_lazy("cli", "siaga aml: malformed AML message{where}: {message_}"), where=where,
                message_=exc.message)))
            sys.exit(1)
        self.stdout.write(json.dumps(fix.as_json(), ensure_ascii=False, sort_keys=True))
