"""Who is here: users seen recently, recorded at most once a minute per user and process."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from siaga.core.models import UserPresence

TOUCH_INTERVAL = 60.0
ONLINE_MINUTES = 10
_last: dict[int, float] = {}
_lock = threading.Lock()


def touch(user: Any, path: str = "") -> None:
    if user is None or not user.is_authenticated:
        return
    now = time.monotonic()
    with _lock:
        if now - _last.get(user.pk, -TOUCH_INTERVAL) < TOUCH_INTERVAL:
            return
        _last[user.pk] = now
    UserPresence.objects.update_or_create(user=user, defaults={"last_seen": timezone.now(), "last_path": path[:200]})


def online(minutes: int = ONLINE_MINUTES) -> QuerySet[UserPresence]:
    since = timezone.now() - timedelta(minutes=minutes)
    return (UserPresence.objects.filter(last_seen__gte=since, user__is_active=True)
            .select_related("user").prefetch_related("user__groups").order_by("user__username"))


def forget(user_id: int) -> None:
    """After logout: gone from the wall at once."""
    with _lock:
        _last.pop(user_id, None)
    UserPresence.objects.filter(user_id=user_id).delete()


class PresenceMiddleware:
    """Records that the logged-in user is active (throttled, see :func:`touch`)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/static/"):
            touch(user, request.path)
        return response
