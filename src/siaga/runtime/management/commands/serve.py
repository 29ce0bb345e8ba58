"""siaga serve: the ASGI server (uvicorn) with the whole application and this node's background roles
(siaga.runtime.roles; --roles chooses them); --demo also runs the call simulator, the local BMKG replay feed
and (unless SIAGA_EWS_UDP says otherwise) the EWS carousel on a loopback multicast group."""

import os
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import LazyText


class Command(BaseCommand):
    help = "Serve Siaga112 over HTTP (default http://127.0.0.1:8112)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("SIAGA_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("SIAGA_PORT", "8112")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("SIAGA_WORKERS", "1")),
                            help="server processes (use 1 with SQLite; the live bus is per process until Redis)")
        parser.add_argument("--access-log", action="store_true", help="log every request")
        parser.add_argument("--no-workers", action="store_true",
                            help="no background roles in this process (run `siaga worker` elsewhere); "
                                 "the same as --roles none")
        parser.add_argument("--roles", default=None,
                            help="background roles of this node, comma-separated: webhooks, dissemination, pollers, "
                                 "carousel, or all / none (default: deliveries, the pollers when "
                                 "SIAGA_HAZARD_POLLING is on, the carousel when SIAGA_EWS_UDP is set)")
        parser.add_argument("--demo", action="store_true",
                            help="also run `siaga demo calls`: backfill the last hours, then a live trickle")

    def handle(self, *args: Any, **options: Any) -> None:
        import uvicorn

        host, port = options["host"], options["port"]
        from siaga.core.metrics import prepare_multiprocess

        # before any instrument exists: every server process of this node counts into one folder
        prepare_multiprocess(settings.VAR_DIR, f"serve-{port}")
        if options["demo"]:
            threading.Thread(target=_run_demo, args=(host, port), daemon=True).start()
            _demo_feeds()
            if not settings.EWS_UDP and not options["no_workers"]:
                settings.EWS_UDP = [DEMO_EWS]
                self.stdout.write(str(LazyText(
                    pgettext_lazy("cli", "EWS carousel on udp://{where}; watch it on a set-top box: `siaga stb "
                                         "--udp {where} --postcode 42431 --http 127.0.0.1:8121`, then "
                                         "http://127.0.0.1:8121/"), where=DEMO_EWS)))
        node = None
        if not options["no_workers"]:
            from siaga.runtime.roles import Node, RoleError, default_roles, parse_roles

            try:
                roles = default_roles() if options["roles"] is None else parse_roles(options["roles"])
            except RoleError as exc:
                raise CommandError(str(exc)) from exc
            node = Node(roles).start()
            os.environ["SIAGA_NODE_ID"] = node.name  # the server's worker processes report this node's roles
        self.stdout.write(str(LazyText(
            pgettext_lazy("cli", "Siaga112 on http://{host}:{port}/ (database: {value})"), host=host, port=port,
            value=settings.DATABASES['default']['ENGINE'])))
        uvicorn.run(
            "siaga.config.asgi:application",
            host=host,
            port=port,
            workers=options["workers"],
            lifespan="off",
            access_log=options["access_log"],
            log_level="warning",
            timeout_graceful_shutdown=5,
            # X-Forwarded-For/-Proto only from the configured reverse proxies (uvicorn would otherwise
            # believe them from 127.0.0.1, letting anyone on the host forge the address the audit log keeps)
            **proxy_options(),
        )
        if node is not None:  # a clean stop hands the singleton roles over at once (their leases released)
            node.stop()


def proxy_options() -> dict[str, Any]:
    proxies = list(settings.TRUSTED_PROXIES)
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}


# the demo's carousel: a multicast group on loopback, not the port `siaga demo tsunami` uses
DEMO_EWS = "239.255.112.1:5005"


def _demo_feeds() -> None:
    """Point the hazard feeds at a local BMKG replay server (no internet), its records marked as a drill,
    and after a minute publish a felt quake near Cilegon so the ticker warning shows (as LATIHAN)."""
    from siaga.hazards.replay import ReplayServer

    replay = ReplayServer()
    replay.start()
    urls = replay.feed_urls()
    settings.BMKG_FEEDS = [urls["autogempa"], urls["gempaterkini"]]
    settings.INATEWS_FEEDS = [urls["inatews"]]
    settings.USGS_FEEDS, settings.CAP_FEEDS = [], []
    settings.DRILL_FEEDS = list(urls.values())
    settings.DEMO_REPLAY = replay

    def later() -> None:
        time.sleep(60)
        replay.state.publish("autogempa", scenario_name="autogempa_drill_selat_sunda_m5_felt.json", shift_to_now=True)

    threading.Thread(target=later, daemon=True).start()


def _run_demo(host: str, port: int) -> None:
    """Wait for the server, then feed it simulated calls through the real CTI endpoint."""
    url = f"http://{host}:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)  # noqa: S310 (our own loopback URL)
            break
        except OSError:
            time.sleep(0.2)
    command = [sys.executable, "-m", "siaga.cli", "demo", "calls", "--url", url]
    subprocess.run([*command, "--backfill", "--fill-gap", "--minutes", "240"], check=False)  # noqa: S603 (our own command)
    subprocess.run([*command, "--minutes", "0", "--speed", "1"], check=False)  # noqa: S603
