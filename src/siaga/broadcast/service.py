"""The carousel on the wire: a constant-bitrate MPEG-TS over UDP carrying the EWS sections of what is on air.

:class:`CarouselService` is a thread (``siaga serve`` starts one when ``SIAGA_EWS_UDP`` is set; ``siaga ews
broadcast`` runs one in the foreground). It sends 7 packets per datagram (1,316 bytes, as IPTV does), paced
to the bitrate; it rereads what is on air when the ``ews.changed`` event arrives and at least every second
(for expiries, and for changes made by another process). Destinations may be multicast groups. It always
sends: with nothing on air an empty TRDW says so, because a box takes silence for nothing at all and keeps
whatever it shows.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import close_old_connections

from siaga.core import metrics
from siaga.ews import sections, ts
from siaga.ews.udp import is_multicast, parse_address

if TYPE_CHECKING:
    from siaga.broadcast.onair import OnAirState

log = logging.getLogger("siaga.broadcast")
PACKETS_PER_DATAGRAM = 7
RELOAD_SECONDS = 1.0


def make_carousel() -> ts.Carousel:
    service = ts.Service(ews_pid=settings.EWS_PID, name=settings.EWS_SERVICE_NAME)
    return ts.Carousel(service, bitrate=settings.EWS_BITRATE, repeat_ms=settings.EWS_REPEAT_MS)


class CarouselService(threading.Thread):
    def __init__(self, destinations: list[str], *, on_version: Any = None, guard: Any = None) -> None:
        super().__init__(name="ews-carousel", daemon=True)
        self.destinations = [parse_address(d) for d in destinations]
        self.carousel = make_carousel()
        self.stopping = threading.Event()
        self._changed = threading.Event()
        self.state: OnAirState | None = None
        self._sections: list[bytes] | None = None
        self.datagrams = 0
        self.failing: set[tuple[str, int]] = set()
        self.on_version = on_version
        self.ready = threading.Event()
        # with several nodes: true while this node holds the carousel's lease; checked before every datagram,
        # so a node that can no longer say it holds it stops sending before another node may start
        self.guard = guard

    def _socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if any(is_multicast(host) for host, _ in self.destinations):
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        return sock

    def reload(self) -> None:
        from siaga.broadcast.onair import snapshot

        close_old_connections()
        try:
            state = snapshot()
            encoded = state.sections()
        except sections.EncodeError:
            log.exception("EWS carousel: what is on air cannot be encoded; the last sections stay on air")
            return
        except Exception:  # the database is away: keep sending what is on air
            log.exception("EWS carousel: cannot read what is on air; the last sections stay on air")
            return
        finally:
            close_old_connections()
        if encoded == self._sections:
            return
        self.carousel.set_sections(encoded)
        metrics.carousel_repetition(self.carousel.repetition_seconds)
        self._sections, previous, self.state = encoded, self.state, state
        if previous is None or previous.versions != state.versions:
            log.info("EWS carousel: TRDW %d TCDW %d TMDW %d, %d package(s) of %d warning(s) on air",
                     state.versions["TRDW"], state.versions["TCDW"], state.versions["TMDW"], len(state.packages),
                     state.warnings)
            if self.carousel.overbooked:
                log.warning("EWS carousel: one repetition takes %.0f ms at %d bit/s, longer than "
                            "SIAGA_EWS_REPEAT_MS=%d; raise SIAGA_EWS_BITRATE", self.carousel.repetition_seconds * 1000,
                            self.carousel.bitrate, settings.EWS_REPEAT_MS)
        if self.on_version is not None:
            self.on_version(state)

    def _listen(self) -> Any:
        from siaga.core.events import get_bus

        return get_bus().add_listener(lambda event: self._changed.set(), ["ews.changed"])

    def run(self) -> None:
        remove = self._listen()
        sock = self._socket()
        try:
            self.reload()
            self.ready.set()
            metrics.carousel_sending(True)
            period = ts.PACKET * 8 * PACKETS_PER_DATAGRAM / self.carousel.bitrate
            start = time.monotonic()
            sent = 0
            next_reload = start + RELOAD_SECONDS
            while not self.stopping.is_set():
                now = time.monotonic()
                if self._changed.is_set() or now >= next_reload:
                    self._changed.clear()
                    self.reload()  # may wait seconds for a database that is away
                    next_reload = time.monotonic() + RELOAD_SECONDS
                    now = time.monotonic()
                due = start + sent * period
                if due > now:
                    self._changed.wait(min(due - now, 0.05))
                    continue
                if now - due > 1.0:  # stalled (a slow database, a suspended machine): keep the rate from now
                    start, sent = now, 0
                # asked right before sending, never before a wait: a datagram sent after this node's lease ran
                # out would be a second stream on the group beside the new holder's
                if self.guard is not None and not self.guard():
                    log.warning("EWS carousel: this node no longer holds the carousel; it stops sending")
                    break
                datagram = b"".join(self.carousel.next_packets(PACKETS_PER_DATAGRAM))
                for destination in self.destinations:
                    try:
                        sock.sendto(datagram, destination)
                    except OSError as exc:  # said once, not ~50 times a second, until it works again
                        if destination not in self.failing:
                            log.error("EWS carousel: cannot send to %s:%d: %s", *destination, exc)
                            self.failing.add(destination)
                    else:
                        if destination in self.failing:
                            log.warning("EWS carousel: sending to %s:%d again", *destination)
                            self.failing.discard(destination)
                sent += 1
                self.datagrams += 1
                metrics.carousel_datagrams()
        finally:
            metrics.carousel_sending(False)
            remove()
            sock.close()
            close_old_connections()

    def stop(self) -> None:
        self.stopping.set()
        self._changed.set()
