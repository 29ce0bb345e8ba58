"""What the gateway calls (messages in, delivery reports) and the public page of a dispatch's place.

Kannel calls these with GET and no session: the MO URL carries a secret in its path (``siaga sms
kannel-config`` prints it), each delivery-report URL the signature of its message. Answers are plain text
for Kannel's log: 200 when taken (again, for a repeat), 400 naming what is wrong, 403 for a wrong secret,
404 for a report of a message we never sent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from siaga.sms import gateway, inbound, reports
from siaga.sms.models import PlaceLink


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _params(request: HttpRequest) -> dict[str, str]:
    source = request.POST if request.method == "POST" else request.GET
    return {key: source.get(key, "") for key in source}


@never_cache
@require_http_methods(["GET", "POST"])
def kannel_mo(request: HttpRequest, token: str) -> HttpResponse:
    if not gateway.verify("kannel-mo", token):
        return _text(403, "wrong secret in the MO URL (see: siaga sms kannel-config)")
    params = _params(request)
    missing = [name for name in ("id", "from", "text") if not params.get(name, "").strip()
               and not (name == "text" and "text" in params)]
    if missing:
        return _text(400, f"missing {', '.join(missing)} (Kannel's get-url needs id=%I&from=%p&text=%a)")
    if any(ord(c) < 0x20 and c not in "\r\n\t" for c in params["text"]) or "\x00" in params["from"]:
        return _text(400, "text or from holds a control character")
    row, new = inbound.receive(inbound.Received(params["id"], params["from"], params.get("to", ""), params["text"]))
    return _text(200, f"{'taken' if new else 'already taken'}: {row.outcome}")


@never_cache
@require_http_methods(["GET", "POST"])
def kannel_dlr(request: HttpRequest) -> HttpResponse:
    params = _params(request)
    key = params.get("m", "")
    if not gateway.verify("dlr:" + key, params.get("s", "")):
        return _text(403, "the delivery-report URL is not one we made (m and s do not match)")
    try:
        applied = reports.record(key, params.get("type", ""), params.get("answer", ""))
    except reports.ReportError as exc:
        return _text(exc.status, str(exc))
    return _text(200, f"{applied.message.status}{'' if applied.changed else ' (already recorded)'}")


DLR_PATH = "/sms/kannel/dlr/"


async def asgi_dlr(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The delivery-report URL on the event loop (`siaga serve`): two reports per message of a warning to
    thousands arrive within a minute, and Django's request handling and a thread for each was most of the
    server's time. The same checks and answers as :func:`kannel_dlr`; the writer thread stores them."""
    import asyncio

    body = b""
    if scope["method"] == "POST":
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body") or len(body) > 8192:
                break
    query = scope.get("query_string", b"").decode("latin-1") + ("&" + body.decode("latin-1") if body else "")
    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    key = params.get("m", "")
    if not gateway.verify("dlr:" + key, params.get("s", "")):
        status, text = 403, "the delivery-report URL is not one we made (m and s do not match)"
    else:
        try:
            report = reports.parse(key, params.get("type", ""), params.get("answer", ""))
            applied = await asyncio.wait_for(asyncio.wrap_future(reports.submit(report)), reports.WAIT_SECONDS)
            status, text = 200, f"{applied.message.status}{'' if applied.changed else ' (already recorded)'}"
        except reports.ReportError as exc:
            status, text = exc.status, str(exc)
        except TimeoutError:
            status, text = 503, "the report is queued but not written yet; send it again"
    payload = (text + "\n").encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": payload})


@require_GET
def place(request: HttpRequest, code: str) -> HttpResponse:
    link = PlaceLink.objects.filter(code=code).first()
    if link is None or link.expires_at <= timezone.now():
        return render(request, "sms/place.html", {"link": None}, status=404)
    return render(request, "sms/place.html", {"link": link})
