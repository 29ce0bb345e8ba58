"""The CTI lane: how CTI events get from a PBX's HTTP request into :func:`do_ingest_cti_events`.

Two doors lead to the same action and the same answers:

* ``POST /api/v1/cti/events`` as a django-ninja operation (documented in the OpenAPI schema; used under
  WSGI and by the test client): one request, one transaction, in the request's thread.
* the same path served by :func:`asgi_endpoint`, which ``siaga serve`` puts in front of Django: the request
  is authenticated and validated on the event loop, then handed to this process's :class:`Batcher`, a
  single writer thread that stores whatever has queued up in one transaction (group commit) and answers
  each request only after that commit. A batch that fails is retried event by event, so one bad event
  never takes its neighbours down. This is what lets one small server take a storm of calls (see
  docs/benchmarks.md); the answer to the PBX still means "stored durably".
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import queue
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections, connection, connections
from ninja.errors import HttpError

from siaga.calls.actions import IngestItem, IngestResult, do_ingest_cti_events
from siaga.core.api_support import (
    RETRY_AFTER_SECONDS,
    database_unavailable,
    error_body,
    thread_connection,
    unavailable_message,
)
from siaga.core.auth import (
    INTEGRATION_CACHE_SECONDS,
    INTEGRATION_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    cached_integration_for_token,
    integration_for_token,
    principal_from_bearer,
    verify_signature_parts,
)
from siaga.core.errors import ActionError
from siaga.core.metrics import count_cti
from siaga.core.models import Integration
from siaga.core.roles import Principal, Role
from siaga.formats import cti

log = logging.getLogger("siaga.cti")
PATH = "/api/v1/cti/events"
MAX_BATCH = 256


class CtiRequestError(Exception):
    """A request the lane answers with an error (the same body as the rest of the API)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.field)


def parse_body(body: bytes) -> tuple[cti.CtiEvent, dict[str, Any]]:
    """Decode and validate, with the status code each kind of bad input gets."""
    if len(body) > cti.MAX_BODY:
        raise CtiRequestError(413, "too_large", f"the body is {len(body)} bytes; at most {cti.MAX_BODY}")
    try:
        payload = cti.loads(body)
    except cti.CtiError as exc:
        raise CtiRequestError(400, "malformed", exc.message) from None
    try:
        event = cti.validate(payload)
    except cti.CtiError as exc:
        raise CtiRequestError(422, "invalid", exc.message, exc.field) from None
    return event, payload


def answer(event: cti.CtiEvent, result: IngestResult | ActionError) -> tuple[int, dict[str, Any]]:
    if isinstance(result, ActionError):
        return result.status, error_body(result.code, result.message, result.field)
    return (200 if result.duplicate else 201), {"status": "duplicate" if result.duplicate else "stored",
                                                "event_id": event.event_id, "call_id": result.call_id}


def _require_pbx(principal: Principal | None) -> Integration:
    if principal is None:
        raise CtiRequestError(401, "unauthenticated", "authentication required: send Authorization: Bearer <token>, "
                                                      "a signed request, or log in")
    if Role.PBX not in principal.roles or principal.integration is None:
        raise CtiRequestError(403, "forbidden", "this needs one of the roles: pbx")
    return principal.integration


def authenticate(headers: Mapping[str, str], body: bytes) -> Integration:
    """The PBX behind a request (bearer token or HMAC signature); may query the database."""
    try:
        principal = principal_from_bearer(headers.get("authorization", ""))
        if principal is None:
            integration = verify_signature_parts(headers.get(INTEGRATION_HEADER.lower()),
                                                 headers.get(SIGNATURE_HEADER.lower()),
                                                 headers.get(TIMESTAMP_HEADER.lower(), ""), body)
            principal = Principal.for_integration(integration) if integration is not None else None
    except HttpError as exc:
        raise CtiRequestError(exc.status_code, "unauthenticated", str(exc.message)) from None
    return _require_pbx(principal)


# ------------------------------------------------------------------------------------------------------
# group commit
# ------------------------------------------------------------------------------------------------------
@dataclass
class _Pending:
    item: IngestItem
    future: concurrent.futures.Future[IngestResult | ActionError] = field(default_factory=concurrent.futures.Future)


class Batcher:
    """One writer thread per process; each loop stores everything that queued up meanwhile."""

    def __init__(self, max_batch: int = MAX_BATCH,
                 store: Callable[[list[IngestItem]], list[IngestResult | ActionError]] = do_ingest_cti_events) -> None:
        self.max_batch = max_batch
        self.store = store
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.events = 0

    def submit(self, item: IngestItem) -> concurrent.futures.Future[IngestResult | ActionError]:
        pending = _Pending(item)
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="siaga-cti-writer", daemon=True)
                    self._thread.start()
        self._queue.put(pending)
        return pending.future

    def stop(self, timeout: float = 10.0) -> None:
        """Store what is queued, then end the thread and close its database connection."""
        thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)  # type: ignore[arg-type]
            thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        try:
            while True:
                batch = [self._queue.get()]
                while len(batch) < self.max_batch and batch[-1] is not _STOP:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stop = batch[-1] is _STOP
                if stop:
                    batch.pop()
                if batch:
                    self._process(batch)
                if stop:
                    return
        finally:
            connections.close_all()

    def _process(self, batch: list[_Pending]) -> None:
        try:
            results = self.store([p.item for p in batch])
        except Exception as exc:
            close_old_connections()  # a broken connection is replaced on the next batch
            if database_unavailable(exc) and not _database_answers():
                # the database is away, not one event poisoned: every sender hears 503 at once and retries
                # (halving would cost each of them a connection attempt, and the answer would be a 500)
                log.warning("the database is unavailable (%s); %d CTI event(s) answered 503", exc, len(batch))
                for pending in batch:
                    pending.future.set_exception(DatabaseUnavailable(str(exc)))
                return
            if len(batch) > 1:
                # halves, not one by one: a poisoned event costs its neighbours a few transactions, not one each
                log.warning("a batch of %d CTI events failed (%s); storing it in halves", len(batch), exc)
                middle = len(batch) // 2
                self._process(batch[:middle])
                self._process(batch[middle:])
                return
            log.exception("storing CTI event %s failed", batch[0].item.event.event_id)
            batch[0].future.set_exception(exc)
            return
        self.batches += 1
        self.events += len(batch)
        for pending, result in zip(batch, results, strict=True):
            pending.future.set_result(result)


class DatabaseUnavailable(Exception):
    """The batch could not be stored because the database cannot be reached (answered 503)."""


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        close_old_connections()
        return False


_STOP = object()
_batcher: Batcher | None = None


def batcher() -> Batcher:
    global _batcher
    if _batcher is None:
        _batcher = Batcher()
    return _batcher


# ------------------------------------------------------------------------------------------------------
# the ASGI door
# ------------------------------------------------------------------------------------------------------
_authenticate_in_thread = sync_to_async(thread_connection(authenticate), thread_sensitive=False)
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


async def _read_body(receive: Receive) -> bytes:
    """The request body; stops keeping it (but keeps reading) past the limit, and then says so with 413."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= cti.MAX_BODY:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if size > cti.MAX_BODY:
        raise CtiRequestError(413, "too_large", f"the body is {size} bytes; at most {cti.MAX_BODY}")
    return b"".join(chunks)


async def _send(send: Send, status: int, document: dict[str, Any],
                extra: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = json.dumps(document).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
        (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"), *(extra or []),
    ]})
    await send({"type": "http.response.body", "body": payload})


_refreshing: set[str] = set()  # PBX tokens being looked up again in the background
_background: set[asyncio.Task[None]] = set()  # (asyncio keeps only weak references to tasks)
_refresh_in_thread = sync_to_async(thread_connection(lambda token: integration_for_token(token, fresh=True)),
                                   thread_sensitive=False)


async def _refresh(token: str) -> None:
    try:
        await _refresh_in_thread(token)
    except Exception:  # the database is away: the cache runs out and requests then hear 503 themselves
        log.warning("could not refresh a PBX token", exc_info=True)
    finally:
        _refreshing.discard(token)


async def _authenticate(headers: dict[str, str], body: bytes) -> Integration:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token.startswith(Integration.PREFIX):
        hit = cached_integration_for_token(token)
        if hit is not None:  # the common case: no thread, no query
            integration, age = hit
            if age > INTEGRATION_CACHE_SECONDS / 2 and token not in _refreshing:
                # refreshed ahead of expiry, off the request path, one look-up at a time: when the cache runs
                # out every request in flight would otherwise queue for a thread and the same query at once
                # (a p99 spike every few seconds); a deactivated integration is still refused within the
                # cache's lifetime
                _refreshing.add(token)
                task = asyncio.create_task(_refresh(token))
                _background.add(task)
                task.add_done_callback(_background.discard)
            return _require_pbx(Principal.for_integration(integration))
    return await _authenticate_in_thread(headers, body)


async def asgi_endpoint(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """``POST /api/v1/cti/events`` on the event loop, stored by the batcher."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    try:
        body = await _read_body(receive)
        integration = await _authenticate(headers, body)
        event, payload = parse_body(body)
        result = await asyncio.wrap_future(batcher().submit(IngestItem(integration, event, payload)))
        status, document = answer(event, result)
    except CtiRequestError as exc:
        status, document = exc.status, exc.body()
    except ConnectionError:
        return
    except Exception as exc:
        # the batch found the database away, or authenticating needed it: 503, and the PBX sends it again
        if isinstance(exc, DatabaseUnavailable) or database_unavailable(exc):
            count_cti("unavailable")
            await _send(send, 503, error_body("database_unavailable", unavailable_message()),
                        [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())])
            return
        log.exception("the CTI lane failed")
        status, document = 500, error_body("server_error", "internal error; it has been logged")
    count_cti(_RESULTS.get(status, "rejected"))
    await _send(send, status, document)


_RESULTS = {201: "stored", 200: "duplicate", 503: "unavailable", 500: "error"}
