"""The background roles of a node, and the leases that keep singleton roles to one node.

A node is one ``siaga serve`` or ``siaga worker`` process. What it runs in the background is a list of
named roles (``siaga worker --roles carousel,pollers``; ``siaga serve`` takes the same roles it always has):

============= ========= ====================================================================
role          runs on   what
============= ========= ====================================================================
webhooks      every     outbound webhook deliveries (rows claimed with SKIP LOCKED: nodes share)
dissemination every     alert deliveries to their channels (claimed the same way)
pollers       one node  the hazard feeds (BMKG allows about 60 requests a minute per address)
carousel      one node  the DVB-T2 EWS carousel (one sender per multicast group, or receivers break)
sms           one node  SMS to the gateway (Kannel): warnings, dispatches, replies, at the gateway's rate
============= ========= ====================================================================

A singleton role runs under a :class:`Keeper`: a thread that takes the role's lease
(:mod:`siaga.core.leases`), starts the role's threads once it holds it, renews it every third of its
time, and stops them the moment it cannot say it still holds it. A node that is not the holder tries
again every second, so when the holder dies (kill -9, a lost network) another node takes over once the
lease expires: within ``SIAGA_LEASE_SECONDS`` + 1 s. The work itself checks the lease too (the carousel
before every datagram, each poller before every poll), so a holder cut off from the database stops at
its local deadline even if its keeper is slow.

The carousel keeps its versions in the database (``CarouselState``), so the node that takes over goes on
from the versions on air, never back to older ones; its continuity counters start again, which a
receiver sees once as a discontinuity (as at any head-end switch-over).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections

from siaga.core.leases import Lease, node_name

log = logging.getLogger("siaga.runtime")
Guard = Callable[[], bool]


@dataclass(frozen=True)
class Role:
    name: str
    singleton: bool
    start: Callable[[Guard], list[Any]]
    help: str


def _webhooks(guard: Guard) -> list[Any]:
    from siaga.webhooks import tasks

    worker = tasks.lane()
    worker.start()
    return [worker]


def _dissemination(guard: Guard) -> list[Any]:
    from siaga.alerts import dispatch

    worker = dispatch.lane()
    worker.start()
    return [worker]


def warm_warning_path() -> float:
    """Compute now what the first warning after a start would otherwise compute on its way: the city's shape
    for the policy, the kecamatan areas of the CAP (both simplified polygons) and the CAP signing pair.
    Measured (bench/warning_latency.py, docs/benchmarks.md): without it the first tsunami warning after a
    start reached the boxes 1.5-3.5 s later than the next ones. Nothing here may stop a node from starting.
    Returns the seconds it took."""
    started = time.monotonic()
    from siaga.alerts import capbuild, signing
    from siaga.hazards import config

    for name, step in (("policy city", config.city), ("CAP areas", capbuild.city_areas), ("CAP signing", signing.pair)):
        try:
            step()
        except Exception as exc:  # no reference data yet, no signing pair in production: said, not fatal
            log.warning("warming the warning path: %s not ready: %s", name, exc)
    return time.monotonic() - started


def _pollers(guard: Guard) -> list[Any]:
    from siaga.hazards.poller import start_all

    warm_warning_path()  # at once when this node warmed up at its start already (Node.start)
    pollers = start_all(guard=guard)
    log.info("polling %d hazard feeds every %g s", len(pollers), settings.POLL_INTERVAL_SECONDS)
    return list(pollers)


def _carousel(guard: Guard) -> list[Any]:
    from siaga.broadcast.service import CarouselService

    if not settings.EWS_UDP:
        log.error("the carousel role needs SIAGA_EWS_UDP (where to send the transport stream)")
        return []
    carousel = CarouselService(settings.EWS_UDP, guard=guard)
    carousel.start()
    log.info("EWS carousel to %s", ", ".join(settings.EWS_UDP))
    return [carousel]


def _sms(guard: Guard) -> list[Any]:
    from siaga.sms import gateway
    from siaga.sms import sender as sms_sender

    if not gateway.configured():
        log.error("the sms role needs SIAGA_SMS_SENDSMS_URL (the gateway's sendsms interface)")
        return []
    sender = sms_sender.lane(guard=guard)
    sender.start()
    log.info("SMS through %s at most %g a second", settings.SMS_SENDSMS_URL, settings.SMS_RATE)
    return [sender]


ROLES: dict[str, Role] = {role.name: role for role in (
    Role("webhooks", False, _webhooks, "outbound webhook deliveries"),
    Role("dissemination", False, _dissemination, "alert deliveries to their channels"),
    Role("pollers", True, _pollers, "the hazard feeds (BMKG, InaTEWS, USGS, CAP)"),
    Role("carousel", True, _carousel, "the DVB-T2 EWS carousel (needs SIAGA_EWS_UDP)"),
    Role("sms", True, _sms, "SMS to the gateway (needs SIAGA_SMS_SENDSMS_URL)"),
)}


class RoleError(ValueError):
    pass


def default_roles(*, polling: bool | None = None) -> list[str]:
    """What ``siaga serve`` and ``siaga worker`` run unless told: deliveries always, the pollers when
    SIAGA_HAZARD_POLLING is on, the carousel when SIAGA_EWS_UDP says where to send it, SMS when
    SIAGA_SMS_SENDSMS_URL names a gateway."""
    names = ["webhooks", "dissemination"]
    if settings.HAZARD_POLLING if polling is None else polling:
        names.append("pollers")
    if settings.EWS_UDP:
        names.append("carousel")
    if settings.SMS_SENDSMS_URL:
        names.append("sms")
    return names


def parse_roles(text: str) -> list[str]:
    """``carousel,pollers`` -> the roles, in the table's order; ``all`` is every role, ``none`` no role."""
    wanted = [part.strip().lower() for part in text.split(",") if part.strip()]
    if wanted == ["none"]:
        return []
    if wanted == ["all"]:
        return list(ROLES)
    unknown = [name for name in wanted if name not in ROLES]
    if unknown or not wanted:
        raise RoleError(f"unknown role {', '.join(unknown) or '(none given)'}: the roles are "
                        f"{', '.join(ROLES)} (or all, none)")
    return [name for name in ROLES if name in wanted]


def _stop_threads(threads: list[Any], timeout: float = 5.0) -> None:
    for thread in threads:
        if hasattr(thread, "stop"):
            thread.stop()
        elif hasattr(thread, "stopping"):
            thread.stopping.set()
    deadline = time.monotonic() + timeout
    for thread in threads:
        if isinstance(thread, threading.Thread) and thread.is_alive():
            thread.join(max(0.0, deadline - time.monotonic()))


class Keeper(threading.Thread):
    """Holds a singleton role's lease and runs the role's work exactly while it holds it."""

    def __init__(self, role: Role, holder: str, ttl: float | None = None, retry: float = 1.0) -> None:
        super().__init__(name=f"siaga-lease-{role.name}", daemon=True)
        self.role = role
        self.lease = Lease(role.name, holder, ttl if ttl is not None else settings.LEASE_SECONDS)
        self.retry = retry
        self.stopping = threading.Event()
        self.work: list[Any] = []
        self.active = False  # the role was started here (it may have no thread: no feed configured)
        self.took_over = 0  # times this node started the role
        self.acquired_at: float | None = None

    @property
    def holding(self) -> bool:
        return self.active and self.lease.held()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                held = self.lease.acquire()
                if held and not self._working():
                    self._start_work()
                elif not held and self.active:
                    log.warning("role %s: lease lost; stopping it on this node", self.role.name)
                    self._stop_work()
                # holding: renew at a third of the lease, and wake at the local deadline at the latest
                self.stopping.wait(min(self.lease.ttl / 3, max(0.05, self.lease.remaining())) if held
                                   else self.retry)
        except Exception:
            log.exception("role %s: keeper failed; the role stops on this node", self.role.name)
        finally:
            self._stop_work()
            self.lease.release()
            connections.close_all()

    def _working(self) -> bool:
        if not self.active:
            return False
        if all(not isinstance(t, threading.Thread) or t.is_alive() for t in self.work):
            return True
        log.error("role %s: its work ended while this node holds the lease; starting it again", self.role.name)
        self._stop_work()
        return False

    def _start_work(self) -> None:
        close_old_connections()
        self.work = self.role.start(self.lease.held)
        self.active = True
        self.took_over += 1
        self.acquired_at = time.monotonic()
        log.warning("role %s: this node (%s) holds it now (lease generation %s)", self.role.name,
                    self.lease.holder, self.lease.generation)

    def _stop_work(self) -> None:
        work, self.work, self.active = self.work, [], False
        if work:
            _stop_threads(work)

    def stop(self) -> None:
        self.stopping.set()


class Node:
    """This process's background roles: started by ``siaga serve`` (beside the web server) and ``siaga worker``."""

    def __init__(self, roles: list[str], name: str | None = None, lease_seconds: float | None = None) -> None:
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise RoleError(f"unknown role {', '.join(unknown)}")
        self.roles = list(roles)
        self.name = name or node_name()
        self.lease_seconds = lease_seconds
        self.threads: list[Any] = []
        self.keepers: dict[str, Keeper] = {}

    def start(self, *, seal: bool = True) -> Node:
        from siaga.core.auditchain import seal_pending, start_sealer

        if seal:
            try:  # rows a process left unsealed when it died between commit and seal (not rows slipped in by hand)
                if sealed := seal_pending("new") + seal_pending("recent"):
                    log.warning("audit chain: sealed %d row(s) left unsealed by an earlier process", sealed)
            except Exception:
                log.exception("audit chain: cannot seal at start; `siaga audit verify` will")
            self.threads.append(start_sealer())
        if {"pollers", "dissemination"} & set(self.roles):
            # a standby node warms up too, so that taking over the pollers costs no extra seconds
            threading.Thread(target=warm_warning_path, name="siaga-warm", daemon=True).start()
        for name in self.roles:
            role = ROLES[name]
            if role.singleton:
                keeper = Keeper(role, self.name, self.lease_seconds)
                keeper.start()
                self.keepers[name] = keeper
                self.threads.append(keeper)
            else:
                self.threads.extend(role.start(lambda: True))
        global _current
        _current = self
        log.info("node %s: roles %s", self.name, ", ".join(self.roles) or "none")
        return self

    def alive(self) -> bool:
        return all(t.is_alive() for t in self.threads if isinstance(t, threading.Thread))

    def status(self) -> dict[str, str]:
        """Each role of this node: ``running`` (a shared role), ``held`` or ``standby`` (a singleton)."""
        result = {}
        for name in self.roles:
            keeper = self.keepers.get(name)
            result[name] = "running" if keeper is None else ("held" if keeper.holding else "standby")
        return result

    def stop(self) -> None:
        _stop_threads(self.threads)
        self.threads = []
        self.keepers = {}


_current: Node | None = None


def current() -> Node | None:
    """The node this process started (None in a process that runs no roles, such as a uvicorn worker)."""
    return _current
