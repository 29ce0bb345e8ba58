"""Liveness and readiness, for a load balancer, a reverse proxy, systemd or a person.

* ``GET /healthz``: the process is up and answering (nothing else is asked; a load balancer that restarts
  on it must not restart every node because the database is away);
* ``GET /readyz``: this node can do its work: the database answers and its migrations are all applied;
  whether Redis answers when SIAGA_REDIS_URL is set (a lost Redis is reported under ``degraded``, and the
  node stays ready: the live pages of other nodes miss its events until Redis returns, nothing else);
  and which background roles this node runs and which singleton roles it holds now. 200 when ready, 503
  (with the reasons) when not: take it out of the pool.

Neither asks for a login (a load balancer has none) and neither shows data: node names, role names and
the names of what is missing.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

_migrated = threading.Event()  # once every migration was seen applied, later checks skip the graph


def node_id() -> str:
    """The node this process belongs to: set by ``siaga serve`` for its server processes."""
    from siaga.runtime.roles import current

    node = current()
    return node.name if node is not None else os.environ.get("SIAGA_NODE_ID", "")


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        close_old_connections()
        return f"unavailable: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
    return "ok"


def check_migrations() -> str:
    if _migrated.is_set():
        return "ok"
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        close_old_connections()
        return f"unknown ({type(exc).__name__})"
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        return f"{len(plan)} not applied ({names}): run `siaga migrate`"
    _migrated.set()
    return "ok"


def check_redis() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        return f"unavailable: {exc}"
    return "ok"


def roles() -> dict[str, Any]:
    """This node's roles: what it runs, and for each lease in the database who holds it."""
    from siaga.core.leases import holders
    from siaga.runtime.roles import current

    me = node_id()
    node = current()
    result: dict[str, Any] = {"node": me, "runs": node.status() if node is not None else None}
    try:
        leases = holders()
    except DatabaseError:
        close_old_connections()
        leases = {}
    result["holds"] = sorted(name for name, lease in leases.items() if me and lease["holder"] == me)
    result["leases"] = {name: lease["holder"] for name, lease in leases.items()}
    return result


def readiness() -> tuple[bool, dict[str, Any]]:
    started = time.monotonic()
    checks = {"database": check_database()}
    checks["migrations"] = check_migrations() if checks["database"] == "ok" else "unknown"
    checks["redis"] = check_redis()
    # Redis carries only the live pages between nodes: without it every node still takes calls and its
    # own pages still update, so a Redis outage degrades the nodes, it does not take them all out of the
    # load balancer (which would refuse every 112 call for a lost convenience).
    ready = checks["database"] == "ok" and checks["migrations"] == "ok"
    body: dict[str, Any] = {"ready": ready, "checks": checks,
                            "degraded": [] if checks["redis"] in ("ok", "not configured") else ["redis"]}
    body.update(roles() if checks["database"] == "ok" else {"node": node_id()})
    body["took_ms"] = round((time.monotonic() - started) * 1000, 1)
    return ready, body


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Readiness (the database, Redis, the roles) is /readyz."""
    response = JsonResponse({"status": "ok", "node": node_id()})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    ready, body = readiness()
    response = JsonResponse(body, status=200 if ready else 503)
    response["Cache-Control"] = "no-store"
    if not ready:
        response["Retry-After"] = "5"
    return response
