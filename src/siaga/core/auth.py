"""Authentication for the JSON API: bearer tokens, HMAC signatures, and the browser session.

* ``Authorization: Bearer sgu_...``: a user's API token (see :class:`~siaga.core.models.ApiToken`).
* ``Authorization: Bearer sgi_...``: an integration's token (a PBX, an AML provider).
* HMAC: ``X-Siaga-Integration: <name>``, ``X-Siaga-Timestamp: <unix seconds>`` and
  ``X-Siaga-Signature: sha256=<hex>``, the hex HMAC-SHA256 of ``"<timestamp>." + body`` with the
  integration's secret. A timestamp further than SIAGA_SIGNATURE_MAX_SKEW_SECONDS from now is refused.
* The session cookie of a logged-in user, with Django's CSRF check on unsafe methods.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import unicodedata
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.translation import pgettext_lazy
from ninja.errors import HttpError
from ninja.security.base import AuthBase

from siaga.core.errors import LazyText
from siaga.core.models import ApiToken, Integration, hash_token
from siaga.core.roles import Principal

SIGNATURE_HEADER = "X-Siaga-Signature"
TIMESTAMP_HEADER = "X-Siaga-Timestamp"
INTEGRATION_HEADER = "X-Siaga-Integration"

# token hash -> (integration, fetched at). Integration tokens are checked on every CTI event; a short
# cache keeps that off the database. Deactivating an integration takes effect within this many seconds.
_INTEGRATION_CACHE: dict[str, tuple[Integration, float]] = {}
INTEGRATION_CACHE_SECONDS = 5.0


def clear_caches() -> None:
    _INTEGRATION_CACHE.clear()
    _SECRET_CACHE.clear()


def cached_integration_for_token(token: str) -> tuple[Integration, float] | None:
    """The integration for a token and the age of that knowledge in seconds, if it is in the cache and
    fresh (no database access)."""
    hit = _INTEGRATION_CACHE.get(hash_token(token))
    if hit is not None:
        age = time.monotonic() - hit[1]
        if age < INTEGRATION_CACHE_SECONDS:
            return hit[0], age
    return None


def integration_for_token(token: str, *, fresh: bool = False) -> Integration | None:
    """The active integration of a token (from the cache unless ``fresh``), or None."""
    digest = hash_token(token)
    now = time.monotonic()
    hit = _INTEGRATION_CACHE.get(digest)
    if not fresh and hit is not None and now - hit[1] < INTEGRATION_CACHE_SECONDS:
        return hit[0]
    integration = Integration.objects.filter(token_hash=digest, active=True).first()
    if integration is None:
        _INTEGRATION_CACHE.pop(digest, None)
        return None
    _INTEGRATION_CACHE[digest] = (integration, now)
    return integration


def user_for_token(token: str) -> Any:
    api_token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(token)).first()
    if api_token is None or not api_token.usable() or not api_token.user.is_active:
        return None
    now = timezone.now()
    if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    return api_token.user


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a client sends in X-Siaga-Signature."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(request: HttpRequest) -> Integration | None:
    """The integration whose secret signed this request, or None; raises 401 for a bad attempt."""
    return verify_signature_parts(request.headers.get(INTEGRATION_HEADER), request.headers.get(SIGNATURE_HEADER),
                                  request.headers.get(TIMESTAMP_HEADER, ""), request.body)


_SECRET_CACHE: dict[str, tuple[Integration | None, float]] = {}


def _integration_by_name(name: str) -> Integration | None:
    now = time.monotonic()
    hit = _SECRET_CACHE.get(name)
    if hit is not None and now - hit[1] < INTEGRATION_CACHE_SECONDS:
        return hit[0]
    integration = Integration.objects.filter(name=name, active=True).first()
    _SECRET_CACHE[name] = (integration, now)
    return integration


def verify_signature_parts(name: str | None, signature: str | None, stamp: str, body: bytes) -> Integration | None:
    """HMAC check on raw parts (shared by the Django API and the CTI lane)."""
    if not name or not signature:
        return None
    try:
        sent = int(stamp)
    except ValueError:
        raise HttpError(401, f"{TIMESTAMP_HEADER} must be Unix seconds") from None
    if abs(time.time() - sent) > settings.SIGNATURE_MAX_SKEW_SECONDS:
        raise HttpError(401, f"{TIMESTAMP_HEADER} is too far from the server's clock (replay or clock drift)")
    integration = _integration_by_name(name)
    if integration is None or not integration.hmac_secret:
        raise HttpError(401, f"no active integration {name!r} with a signing secret")
    expected = sign(integration.hmac_secret, stamp, body)
    if not hmac.compare_digest(expected, signature.strip()):
        raise HttpError(401, f"{SIGNATURE_HEADER} does not match the body")
    return integration


def principal_from_bearer(value: str) -> Principal | None:
    """The principal of an ``Authorization`` header value; None without a bearer token; 401 if invalid."""
    scheme, _, token = value.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not token:
        return None
    token = token.strip()
    if token.startswith(Integration.PREFIX):
        integration = integration_for_token(token)
        if integration is None:
            raise HttpError(401, "the integration token is unknown or revoked")
        return Principal.for_integration(integration)
    if token.startswith(ApiToken.PREFIX):
        user = user_for_token(token)
        if user is None:
            raise HttpError(401, "the API token is unknown, expired or revoked")
        return Principal.for_user(user)
    raise HttpError(401, "the bearer token has an unknown prefix (expected sgu_ or sgi_)")


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>`` for users (``sgu_``) and integrations (``sgi_``)."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Principal | None:
        return principal_from_bearer(request.headers.get("Authorization", ""))


class SignatureAuth(AuthBase):
    """HMAC-signed requests from an integration."""

    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = SIGNATURE_HEADER

    def __call__(self, request: HttpRequest) -> Principal | None:
        integration = verify_signature(request)
        return Principal.for_integration(integration) if integration is not None else None


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> Any:
        return reason


def _csrf_failure(request: HttpRequest) -> str | None:
    check = _CsrfCheck(lambda req: None)  # type: ignore[arg-type, return-value]
    request.csrf_processing_done = False  # type: ignore[attr-defined]  # the API view itself is exempt
    check.process_request(request)
    result = check.process_view(request, lambda req: None, (), {})  # type: ignore[arg-type]
    return result if isinstance(result, str) else None


class SessionAuth(AuthBase):
    """The logged-in browser session; unsafe methods must carry the CSRF token."""

    openapi_type = "apiKey"
    openapi_in = "cookie"
    openapi_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Principal | None:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            reason = _csrf_failure(request)
            if reason:
                raise HttpError(403, LazyText(pgettext_lazy("error", "CSRF check failed: {reason}"), reason=reason))
        return Principal.for_user(user)


API_AUTH = [BearerAuth(), SignatureAuth(), SessionAuth()]


class AmlHmacAuth(AuthBase):
    """An AML HTTPS body authenticated by its own ``hmac`` field (see :mod:`siaga.formats.aml`).

    The body names no provider, so every active AML integration's secret is tried (there are few).
    """

    openapi_type = "apiKey"
    openapi_in = "query"
    openapi_name = "hmac"

    def __call__(self, request: HttpRequest) -> Principal | None:
        from siaga.formats.aml import https_signed_part, verify_https_hmac

        _, digest = https_signed_part(request.body)
        if not digest:
            return None
        for integration in Integration.objects.filter(kind=Integration.Kind.AML, active=True).exclude(hmac_secret=""):
            if verify_https_hmac(request.body, integration.hmac_secret.encode()):
                return Principal.for_integration(integration)
        raise HttpError(401, "the hmac field does not match any AML provider's key")


def normal_username(name: object) -> str:
    """The form of a username that login failures are counted under: NFKC, case-folded, trimmed, at most 150."""
    return unicodedata.normalize("NFKC", str(name or "")).casefold().strip()[:150]
