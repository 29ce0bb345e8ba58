"""Audit rows for logins and failed logins; region cache invalidation when boundaries change."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from siaga.core import audit, regions
from siaga.core.models import Kelurahan
from siaga.core.roles import Principal


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(Principal.for_user(user), "auth.login", user, object_type="auth.user",
                 note=_client(request))


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        from siaga.core.presence import forget

        audit.record(Principal.for_user(user), "auth.logout", user, object_type="auth.user", note=_client(request))
        forget(user.pk)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    from siaga.core.auth import normal_username

    username = normal_username(credentials.get("username", ""))[:100]  # counted as the account it would reach
    audit.record(Principal.system("anonymous"), "auth.login_failed", object_type="auth.user", object_id=username,
                 note=_client(request))


def _client(request: Any) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


@receiver([post_save, post_delete], sender=Kelurahan)
def _regions_changed(**kwargs: Any) -> None:
    regions.invalidate()
