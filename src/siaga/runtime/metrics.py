"""Prometheus metrics: ``GET /metrics`` (prometheus-client's text format).

Two kinds, as Prometheus practice has them:

* what this node did, counted where it happens (per node; Prometheus sums the nodes): CTI events by
  result, the answer time of calls, the carousel's repetition time, datagrams and whether it sends here.
  ``siaga serve`` runs several server processes (``--workers``), so it puts prometheus-client in its
  multi-process mode: every process writes its values to files under ``<var>/metrics/serve-<port>``
  (emptied when the node starts) and ``/metrics`` adds them up, whichever process answers;
* the state of the whole deployment, read from the database at each scrape (the same on every node):
  calls ringing, alert deliveries by channel and status, SMS by purpose and status, audit rows not yet
  sealed, lease holders, each feed's polls, lag and failures, the carousel's versions. A database that
  does not answer is ``siaga_database_up 0`` and the scrape still succeeds.

``/metrics`` asks for a login like every endpoint: an integration token of kind ``monitor``
(``siaga integration create prometheus --kind monitor``, given to Prometheus as its bearer token) or an
administrator.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from siaga.core.metrics import MULTIPROC_ENV, instruments


class StateCollector:
    """What the database says, at scrape time."""

    def collect(self) -> Iterator[Any]:
        from django.db import DatabaseError
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        up = GaugeMetricFamily("siaga_database_up", "1 when the database answered this scrape")
        try:  # the connection is the request's: Django gives it back (or drops a broken one) at the end
            families = list(self._families(GaugeMetricFamily, CounterMetricFamily))
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, gauge: Any, counter: Any) -> Iterator[Any]:
        from django.db.models import Count

        from siaga.alerts.models import Delivery
        from siaga.broadcast.models import CarouselState
        from siaga.calls.models import Call, CallState
        from siaga.core.leases import holders
        from siaga.core.models import AuditChainHead, AuditLog
        from siaga.hazards.models import Feed

        ringing = gauge("siaga_calls_ringing", "Calls ringing now, not yet answered")
        ringing.add_metric([], Call.objects.filter(state=CallState.RINGING).count())
        yield ringing

        deliveries = gauge("siaga_alert_deliveries", "Alert deliveries by channel and status", labels=["channel",
                                                                                                        "status"])
        for row in Delivery.objects.values("channel", "status").annotate(n=Count("id")).order_by():
            deliveries.add_metric([row["channel"], row["status"]], row["n"])
        yield deliveries

        from siaga.sms.models import Message

        sms = gauge("siaga_sms_messages", "SMS out by purpose and status (each try a message)",
                    labels=["purpose", "status"])
        for row in Message.objects.values("purpose", "status").annotate(n=Count("id")).order_by():
            sms.add_metric([row["purpose"], row["status"]], row["n"])
        yield sms

        head = AuditChainHead.objects.filter(name="default").values_list("last_audit_id", flat=True).first() or 0
        unsealed = gauge("siaga_audit_unsealed_rows", "Audit rows committed but not yet sealed into the chain")
        unsealed.add_metric([], AuditLog.objects.filter(id__gt=head).count())
        yield unsealed

        holder = gauge("siaga_lease_holder", "1 for the node holding each singleton role's lease", labels=["role",
                                                                                                            "holder"])
        expires = gauge("siaga_lease_expires_in_seconds", "Seconds until each lease expires unless renewed",
                        labels=["role"])
        now = timezone.now()
        for role, lease in holders().items():
            if lease["holder"]:  # in force
                holder.add_metric([role, str(lease["holder"])], 1)
            if isinstance(at := lease.get("expires_at"), datetime):
                expires.add_metric([role], (at - now).total_seconds())
        yield holder
        yield expires

        polls = counter("siaga_feed_polls", "Requests made to each hazard feed", labels=["feed"])
        failures = gauge("siaga_feed_consecutive_failures", "Failed polls of each feed since its last success",
                         labels=["feed"])
        lag = gauge("siaga_feed_lag_seconds", "Seconds since each feed was last read successfully", labels=["feed"])
        for feed in Feed.objects.filter(enabled=True).order_by("name"):
            polls.add_metric([feed.name], feed.polls)
            failures.add_metric([feed.name], feed.consecutive_failures)
            if feed.last_success_at is not None:
                lag.add_metric([feed.name], (now - feed.last_success_at).total_seconds())
        yield polls
        yield failures
        yield lag

        state = CarouselState.objects.filter(name="default").first()
        version = gauge("siaga_carousel_version", "version_number on air of each EWS sub-table", labels=["table"])
        revision = counter("siaga_carousel_revisions", "Changes of what the EWS carousel has on air")
        if state is not None:
            for table, number in sorted(state.versions.items()):
                version.add_metric([table], number)
            revision.add_metric([], state.revision)
        yield version
        yield revision


def exposition() -> tuple[bytes, str]:
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    instruments()  # every family appears from the first scrape, at zero
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector())
    if os.environ.get(MULTIPROC_ENV):
        node = CollectorRegistry()
        MultiProcessCollector(node)
        body = generate_latest(node)
    else:
        body = generate_latest(REGISTRY)
    return body + generate_latest(state), CONTENT_TYPE_LATEST


def _allowed(request: HttpRequest) -> int:
    """200, 401 (no or a bad credential) or 403 (a credential without the role)."""
    from ninja.errors import HttpError

    from siaga.core.roles import Principal, Role

    try:
        from siaga.core.auth import principal_from_bearer

        principal = principal_from_bearer(request.headers.get("Authorization", ""))
    except HttpError:
        return 401
    if principal is None and request.user.is_authenticated:
        principal = Principal.for_user(request.user)
    if principal is None:
        return 401
    return 200 if principal.has(Role.MONITOR, Role.ADMIN) else 403


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    status = _allowed(request)
    if status != 200:
        response = HttpResponse(b"authentication required: a monitor integration token or an administrator\n"
                                if status == 401 else b"this needs one of the roles: monitor, admin\n",
                                status=status, content_type="text/plain; charset=utf-8")
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="siaga"'
        return response
    started = time.monotonic()
    body, content_type = exposition()
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    response["X-Scrape-Ms"] = f"{(time.monotonic() - started) * 1000:.1f}"
    return response
