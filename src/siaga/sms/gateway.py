"""The SMS gateway: Kannel's sendsms HTTP interface (MT), behind a small interface for other gateways.

Kannel (bearerbox + smsbox, Debian's ``kannel`` package) is how Indonesian deployments reach an operator's
SMSC. Siaga112 hands it one message per request (``GET /cgi-bin/sendsms``), with a delivery-report URL that
names the message and carries its signature; Kannel calls that URL as the SMSC reports (type 8: accepted by
the SMSC, 1: delivered to the phone, 2 / 16: failed). Messages that come in (MO) reach Kannel's
``sms-service`` ``get-url``, which points at :mod:`siaga.sms.views` with a secret in its path
(``siaga sms kannel-config`` prints the lines for Kannel's configuration).

An answer 202 ("0: Accepted for delivery", "3: Queued for later delivery") means Kannel has the message; a
4xx (wrong credentials, a refused number or text) will not change by trying again; a 5xx or no answer will.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.utils import timezone

from siaga.formats import phone
from siaga.formats.gsm import Fitted

TIMEOUT = 10.0


@dataclass(frozen=True)
class Submit:
    to: str  # E.164
    fitted: Fitted
    key: str  # the message's key: named in its delivery reports


@dataclass(frozen=True)
class Answer:
    accepted: bool
    status: int  # HTTP status (0: no answer)
    text: str
    retry: bool  # trying again later may succeed
    at: datetime | None = None  # when the request went to the gateway (after the rate limit's wait)


class Gateway(Protocol):
    name: str

    def submit(self, message: Submit) -> Answer: ...


def _key() -> bytes:
    return (settings.SMS_SECRET or f"siaga-sms:{settings.SECRET_KEY}").encode()


def sign(text: str) -> str:
    """What proves a callback URL came from us (the delivery report of one message, the MO path)."""
    return hmac.new(_key(), text.encode(), hashlib.sha256).hexdigest()[:32]


def verify(text: str, signature: str) -> bool:
    return hmac.compare_digest(sign(text), signature or "")


def callback_base() -> str:
    return settings.SMS_CALLBACK_URL or settings.PUBLIC_URL


def mo_url() -> str:
    """Kannel's ``get-url`` for messages that come in (its %-escapes: id, sender, receiver, text, time)."""
    return f"{callback_base()}/sms/kannel/mo/{sign('kannel-mo')}/?id=%I&from=%p&to=%P&text=%a&time=%T"


def dlr_url(key: str) -> str:
    """The delivery-report URL of one message (Kannel fills in %d, the report type, and %A, the SMSC's text)."""
    return f"{callback_base()}/sms/kannel/dlr/?{urlencode({'m': key, 's': sign('dlr:' + key)})}&type=%d&answer=%A"


def dialled(number: str) -> str:
    """How the operator wants a number (SIAGA_SMS_NUMBER_FORMAT): 62812..., +62812... or 0812..."""
    if settings.SMS_NUMBER_FORMAT == "e164":
        return number
    if settings.SMS_NUMBER_FORMAT == "national":
        parsed = phone.normalise(number, settings.PHONE_REGION)
        if parsed.e164 and parsed.e164.startswith("+62"):
            return "0" + parsed.e164[3:]
    return number.lstrip("+")


class RateLimit:
    """At most ``rate`` submissions a second, shared by the threads that submit (a token bucket of one
    second's worth, so a burst never exceeds what the gateway was sized for)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                pause = (1 - self.tokens) / self.rate
            time.sleep(pause)


class KannelGateway:
    name = "kannel"

    def __init__(self, url: str, username: str, password: str, sender: str, smsc: str = "",
                 rate: float = 50.0, concurrency: int = 8) -> None:
        self.url, self.username, self.password, self.sender, self.smsc = url, username, password, sender, smsc
        self.limit = RateLimit(rate)
        self.client = httpx.Client(timeout=TIMEOUT, limits=httpx.Limits(max_connections=concurrency,
                                                                        max_keepalive_connections=concurrency))

    def submit(self, message: Submit) -> Answer:
        params = {"username": self.username, "password": self.password, "from": self.sender,
                  "to": dialled(message.to), "text": message.fitted.text, "charset": "UTF-8",
                  "coding": str(message.fitted.coding), "dlr-mask": "31", "dlr-url": dlr_url(message.key)}
        if self.smsc:
            params["smsc"] = self.smsc
        self.limit.wait()
        at = timezone.now()
        try:
            response = self.client.get(self.url, params=params)
        except httpx.HTTPError as exc:
            return Answer(False, 0, f"the gateway did not answer: {type(exc).__name__}: {exc}"[:300], True, at)
        text = response.text.strip()[:300]
        if response.status_code in (200, 202):
            return Answer(True, response.status_code, text, False, at)
        return Answer(False, response.status_code, f"HTTP {response.status_code}: {text}"[:300],
                      response.status_code >= 500 or response.status_code in (408, 429), at)

    def close(self) -> None:
        self.client.close()


_gateway: Gateway | None = None
_lock = threading.Lock()


def configured() -> bool:
    return bool(settings.SMS_SENDSMS_URL)


def get() -> Gateway:
    """The gateway of this process (one client: its connections and its rate are shared)."""
    global _gateway
    with _lock:
        if _gateway is None:
            if not configured():
                raise RuntimeError("SIAGA_SMS_SENDSMS_URL is not set: SMS is off")
            _gateway = KannelGateway(settings.SMS_SENDSMS_URL or "", settings.SMS_USERNAME, settings.SMS_PASSWORD,
                                     settings.SMS_SENDER, settings.SMS_SMSC, settings.SMS_RATE,
                                     settings.SMS_CONCURRENCY)
        return _gateway


def reset() -> None:
    """Forget the gateway (settings changed: tests, a reload)."""
    global _gateway
    with _lock:
        if isinstance(_gateway, KannelGateway):
            _gateway.close()
        _gateway = None
