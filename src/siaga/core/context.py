"""Template context shared by every page."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from siaga import __version__
from siaga.core.roles import user_roles


def siaga(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "SIAGA_CITY": settings.CITY_NAME,
        "SIAGA_VERSION": __version__,
        "SIAGA_ENV": settings.ENVIRONMENT,
        "user_roles": sorted(r.value for r in user_roles(user)) if user is not None else [],
    }
