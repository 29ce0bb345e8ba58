"""siaga worker: background roles outside the web server (siaga.runtime.roles), until interrupted."""

import logging
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import LazyText
from siaga.runtime.roles import ROLES, Node, RoleError, default_roles, parse_roles


class Command(BaseCommand):
    help = ("Run background roles (webhook and alert deliveries, hazard feed polling, the EWS carousel) until "
            "interrupted; with several nodes the pollers and the carousel run on one of them at a time.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--roles", default=None,
                            help="comma-separated: " + ", ".join(f"{r.name} ({r.help})" for r in ROLES.values())
                                 + "; or all. Default: the deliveries, the pollers when SIAGA_HAZARD_POLLING is on, "
                                   "the carousel when SIAGA_EWS_UDP is set")
        parser.add_argument("--no-polling", action="store_true", help="do not poll the hazard feeds here")

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("siaga").setLevel(logging.INFO)
        try:
            roles = (default_roles(polling=False if options["no_polling"] else None) if options["roles"] is None
                     else parse_roles(options["roles"]))
        except RoleError as exc:
            raise CommandError(str(exc)) from exc
        if options["no_polling"] and "pollers" in roles:
            roles.remove("pollers")
        node = Node(roles).start()
        stopping = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stopping.update(now=True))
        self.stdout.write(str(LazyText(
            pgettext_lazy("cli", "worker {node} running (roles: {roles}); Ctrl-C to stop"), node=node.name,
            roles=", ".join(roles) or "-")))
        try:
            while not stopping["now"] and node.alive():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        node.stop()
