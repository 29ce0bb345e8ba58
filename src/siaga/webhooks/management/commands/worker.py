"""siaga worker: background work outside the web server (webhooks, alert dissemination, hazard polling)."""

import logging
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core import background
from siaga.core.errors import LazyText


class Command(BaseCommand):
    help = "Run the background workers (webhook and alert deliveries, hazard feed polling) until interrupted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-polling", action="store_true", help="do not poll the hazard feeds here")

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("siaga").setLevel(logging.INFO)
        threads = background.start(polling=False if options["no_polling"] else None)
        stopping = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stopping.update(now=True))
        self.stdout.write(str(LazyText(
            pgettext_lazy("cli", "worker running ({len} threads); Ctrl-C to stop"), len=len(threads))))
        try:
            while not stopping["now"] and all(t.is_alive() for t in threads):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        background.stop(threads)
