"""Live updates for pages: ``GET /live/events`` as Server-Sent Events, straight on the ASGI loop.

Each connection authenticates (the Django session cookie, or a bearer token for other systems), and again
every ``SIAGA_LIVE_RECHECK_SECONDS`` while it is open: a revoked token, a deactivated user, a session logged
out or a role taken away ends the stream within that time (with a last ``session.ended`` message). It
subscribes to the process's event bus (in-process or Redis, see :mod:`siaga.core.events`) and receives
the events its role may see, each as one SSE message whose data is ``{"topic", "data", "at"}``. A comment
line every 15 s keeps proxies from closing an idle stream. Pages react to a message by refreshing the part
of the page it concerns, through the ordinary (permission-checked) views.

Who sees what (:func:`may_see`): calls and callers only the call centre (operators, supervisors, admins);
incidents and dispatches the call centre and the wall, and an agency those that concern it; warnings
everybody.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from django.conf import settings

from siaga.core.api_support import thread_connection
from siaga.core.events import RESYNC_TOPIC, LiveEvent, get_bus
from siaga.core.roles import STAFF, Principal, Role

log = logging.getLogger("siaga.live")
PATH = "/live/events"
KEEPALIVE_SECONDS = 15.0
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


def may_see(principal: Principal, event: LiveEvent) -> bool:
    topic, data = event.topic, event.data
    if topic.startswith(("call.", "caller.")):
        return principal.has(*STAFF)
    if topic.startswith("incident."):
        if principal.has(*STAFF, Role.WALL):
            return True
        return principal.agency_id is not None and principal.agency_id in data.get("agency_ids", ())
    if topic.startswith("dispatch."):
        if principal.has(*STAFF, Role.WALL):
            return True
        return principal.agency_id is not None and data.get("agency_id") == principal.agency_id
    if topic.startswith("alert.draft"):
        return principal.has(*STAFF)
    if topic == RESYNC_TOPIC:  # says nothing but "reload": every signed-in page gets it
        return True
    if topic.startswith(("warning.", "presence.", "roster.", "alert.", "hazard.", "public.")):
        return bool(principal.roles)
    return principal.has(Role.ADMIN)


PUBLIC_PATH = "/peringatan/stream"
PUBLIC_TOPICS = ("public.alert", "alert.expired")


def _session_key(headers: dict[str, str]) -> str:
    """The Django session key in a request's Cookie header ("" without one)."""
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == settings.SESSION_COOKIE_NAME:
            return value
    return ""


def _principal(headers: dict[str, str]) -> Principal | None:
    """The user behind a session cookie or a bearer token (runs in a thread: it reads the database)."""
    from django.contrib.auth import get_user
    from django.http import HttpRequest
    from ninja.errors import HttpError

    from siaga.core.auth import principal_from_bearer

    bearer = headers.get("authorization", "")
    if bearer:
        try:
            return principal_from_bearer(bearer)
        except HttpError:
            return None
    key = _session_key(headers)
    if not key:
        return None
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(key)
    user = get_user(request)
    if not user.is_authenticated:
        return None
    from siaga.core.presence import touch

    touch(user, PATH)
    return Principal.for_user(user)


_CLOSED = LiveEvent(id=0, topic="__closed__", data={})
_KEEPALIVE = LiveEvent(id=0, topic="__keepalive__", data={})
_keepalive_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}


async def _keepalive(loop: asyncio.AbstractEventLoop) -> None:
    """One timer per event loop nudges every stream on it (one timer per stream would cost a task per event)."""
    while True:
        await asyncio.sleep(KEEPALIVE_SECONDS)
        for sub in get_bus().subscriptions_of(loop):
            sub._put(_KEEPALIVE)


def _ensure_keepalive() -> None:
    loop = asyncio.get_running_loop()
    if loop not in _keepalive_tasks:
        _keepalive_tasks[loop] = loop.create_task(_keepalive(loop))


# ------------------------------------------------------------------------------------------------------
# re-checking the credentials of open streams: one sweep per event loop, one check per credential
# ------------------------------------------------------------------------------------------------------
Verdict = Callable[[Principal | None], None]


@dataclass
class _Watched:
    credential: tuple[str, str]  # (Authorization header, session cookie): streams sharing it share the check
    headers: dict[str, str]
    verdict: Verdict


_watched: dict[asyncio.AbstractEventLoop, dict[int, _Watched]] = {}
_sweep_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}


def _credential(headers: dict[str, str]) -> tuple[str, str]:
    return headers.get("authorization", ""), _session_key(headers)


def _principals(headers: list[dict[str, str]]) -> list[Principal | None]:
    """Each credential's principal now, in one thread hop (one per sweep, whatever the number of streams)."""
    return [_principal(h) for h in headers]


_principals_in_thread = sync_to_async(thread_connection(_principals), thread_sensitive=False)


async def _sweep(loop: asyncio.AbstractEventLoop) -> None:
    """Every ``SIAGA_LIVE_RECHECK_SECONDS``: the distinct credentials of this loop's open streams are checked
    once each, and every stream hears its credential's verdict. 10,000 streams of one wall token cost one
    check, not 10,000 thread hops and queries every few seconds (which took the fan-out's p99 past 1 s)."""
    while True:
        await asyncio.sleep(settings.LIVE_RECHECK_SECONDS)
        watched = _watched.get(loop, {})
        groups: dict[tuple[str, str], tuple[dict[str, str], list[Verdict]]] = {}
        for entry in list(watched.values()):
            groups.setdefault(entry.credential, (entry.headers, []))[1].append(entry.verdict)
        if not groups:
            continue
        try:
            principals = await _principals_in_thread([h for h, _ in groups.values()])
        except Exception:  # the database is away: keep the wall's warnings flowing, try again later
            log.warning("live streams: could not re-check their credentials", exc_info=True)
            continue
        for (_headers, verdicts), principal in zip(groups.values(), principals, strict=True):
            for verdict in verdicts:
                verdict(principal)


def _watch(headers: dict[str, str], verdict: Verdict) -> Callable[[], None]:
    """Have this stream's credential re-checked by the loop's sweep; returns the function that stops it."""
    loop = asyncio.get_running_loop()
    if loop not in _sweep_tasks or _sweep_tasks[loop].done():
        _sweep_tasks[loop] = loop.create_task(_sweep(loop))
    entry = _Watched(_credential(headers), headers, verdict)
    _watched.setdefault(loop, {})[id(entry)] = entry

    def unwatch() -> None:
        _watched.get(loop, {}).pop(id(entry), None)

    return unwatch


async def _reply(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": {"code": "unauthenticated" if status == 401 else "forbidden", "message": message,
                                 "field": None}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def asgi_endpoint(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    principal = (await _principals_in_thread([headers]))[0]
    if principal is None:
        await _reply(send, 401, "log in, or send Authorization: Bearer <token>")
        return
    if not principal.roles.intersection({*STAFF, Role.WALL, Role.AGENCY}):
        await _reply(send, 403, "live updates are for the call centre, agencies and the wall")
        return
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    topics = [t for value in query.get("topics", []) for t in value.split(",") if t]
    hello = {"topic": "hello", "data": {"roles": sorted(r.value for r in principal.roles)}}
    current = [principal]

    def judge(fresh: Principal | None) -> bool:
        if fresh is None or not fresh.roles.intersection({*STAFF, Role.WALL, Role.AGENCY}):
            return False
        current[0] = fresh  # roles or agency changed: filter by what is true now
        return True

    await _stream(receive, send, topics, hello, lambda event: may_see(current[0], event), (headers, judge))


async def public_endpoint(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """``GET /peringatan/stream``: the public warnings as they are issued, for anyone (no login).

    Only what the public page shows goes out here: each alert's public summary (``public.alert``) and
    the end of a warning (``alert.expired``)."""
    await _stream(receive, send, list(PUBLIC_TOPICS), {"topic": "hello", "data": {"public": True}},
                  lambda event: event.topic in PUBLIC_TOPICS or event.topic == RESYNC_TOPIC)


_ENDED = LiveEvent(id=0, topic="__ended__", data={})


async def _stream(receive: Receive, send: Send, topics: list[str], hello: dict[str, Any],
                  allowed: Callable[[LiveEvent], bool],
                  credentials: tuple[dict[str, str], Callable[[Principal | None], bool]] | None = None) -> None:
    """Send the subscription's events until the client goes away; with ``credentials`` (the request's
    headers and a judge of a fresh principal) the stream ends with ``session.ended`` once they fail."""
    _ensure_keepalive()
    subscription = get_bus().subscribe(topics)
    closed = asyncio.Event()
    revoked = asyncio.Event()  # besides the _ENDED marker, which a full queue could drop
    unwatch: Callable[[], None] | None = None
    if credentials is not None:
        headers, judge = credentials

        def verdict(fresh: Principal | None) -> None:
            if not revoked.is_set() and not judge(fresh):
                revoked.set()
                subscription._put(_ENDED)

        unwatch = _watch(headers, verdict)

    async def watch_disconnect() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                closed.set()
                subscription._put(_CLOSED)  # wakes the loop below at once
                return

    watcher = asyncio.create_task(watch_disconnect())
    try:
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"), (b"x-content-type-options", b"nosniff")]})
        await send({"type": "http.response.body", "body": f"retry: 2000\ndata: {json.dumps(hello)}\n\n".encode(),
                    "more_body": True})
        while not closed.is_set():
            event = await subscription.queue.get()
            if event is _CLOSED:
                break
            if event is _ENDED or revoked.is_set():  # credentials no longer valid: say so, then end the response
                ended = {"topic": "session.ended", "data": {"reason": "log in again"}}
                await send({"type": "http.response.body", "body": f"data: {json.dumps(ended)}\n\n".encode(),
                            "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                break
            if event is _KEEPALIVE:
                await send({"type": "http.response.body", "body": b": keepalive\n\n", "more_body": True})
                continue
            if allowed(event):
                await send({"type": "http.response.body", "body": event.wire(), "more_body": True})
    except (OSError, RuntimeError):  # the client went away mid-write
        pass
    finally:
        subscription.close()
        watcher.cancel()
        if unwatch is not None:
            unwatch()
