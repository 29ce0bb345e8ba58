"""siaga integration create NAME --kind pbx|aml|monitor|partner [--hmac] | siaga integration rotate NAME."""

import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core import audit
from siaga.core.errors import LazyText
from siaga.core.models import Integration
from siaga.core.roles import Principal


class Command(BaseCommand):
    help = "Register a PBX or AML provider and print its token (and HMAC secret)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create")
        create.add_argument("name")
        create.add_argument("--kind", choices=["pbx", "aml", "monitor", "partner"], required=True,
                            help="pbx: CTI events; aml: caller locations; monitor: reads /metrics only; partner: "
                                 "another command centre posting EIDO documents")
        create.add_argument("--hmac", action="store_true", help="also generate an HMAC signing secret")
        rotate = sub.add_parser("rotate")
        rotate.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Principal.system("system:cli")
        if options["verb"] == "create":
            if Integration.objects.filter(name=options["name"]).exists():
                raise CommandError(str(LazyText(
                    pgettext_lazy("cli", "integration {value!r} exists; use rotate"), value=options['name'])))
            integration = Integration.objects.create(name=options["name"], kind=options["kind"],
                                                     hmac_secret=secrets.token_hex(32) if options["hmac"] else "")
            audit.record(actor, "integration.create", integration, after={"kind": integration.kind})
        else:
            integration = Integration.objects.filter(name=options["name"]).first()
            if integration is None:
                raise CommandError(str(LazyText(
                    pgettext_lazy("cli", "no integration {value!r}"), value=options['name'])))
            audit.record(actor, "integration.rotate", integration)
        token = integration.rotate_token()
        self.stdout.write(f"token: {token}")  # scripts read these two lines as they are
        if integration.hmac_secret:
            self.stdout.write(f"hmac secret: {integration.hmac_secret}")
