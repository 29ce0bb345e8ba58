"""siaga worker: background work outside the web server (outbound webhooks), for scale-out deployments."""

import logging
import signal
from typing import Any

from django.core.management.base import BaseCommand

from siaga.webhooks.tasks import Worker


class Command(BaseCommand):
    help = "Run the background workers (webhook deliveries) until interrupted."

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("siaga").setLevel(logging.INFO)
        worker = Worker()
        signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
        worker.start()
        self.stdout.write("worker running (webhooks); Ctrl-C to stop")
        try:
            while worker.is_alive():
                worker.join(1.0)
        except KeyboardInterrupt:
            worker.stopping.set()
            worker.join(10)
