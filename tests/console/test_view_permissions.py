"""Every page, for every role: the table below is the specification, and it must list every URL.

Anonymous visitors are sent to the login page (or get the public answer for the few public paths);
each role gets 200 where allowed and 403 elsewhere.
"""

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

ROLES = ["operator", "supervisor", "agency", "wall", "admin"]
# path -> roles allowed (None = public: no login needed)
PAGES: dict[str, set[str] | None] = {
    "/": set(ROLES),  # a redirect to the role's screen
    "/console/": {"operator", "supervisor", "admin"},
    "/agency/": {"agency"},
    "/wall/": {"wall", "supervisor", "admin", "operator"},
    "/roster/": {"operator", "supervisor", "admin"},
    "/reports/": {"supervisor", "admin"},
    "/reports/download": {"supervisor", "admin"},
    "/jsi18n/": set(ROLES),
    "/login/": None,
    "/logout/": None,
    "/healthz": None,
}
# URL prefixes with their own, separately tested, protection
OTHERS = ("admin/", "api/v1/", "i18n/")


def _routes(patterns: list[Any], prefix: str = "") -> list[str]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith(OTHERS):
                continue
            found += _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            found.append("/" + route)
    return found


def test_the_table_lists_every_page() -> None:
    assert set(_routes(get_resolver().url_patterns)) == set(PAGES)


@pytest.mark.parametrize("path", [p for p, roles in PAGES.items() if roles is not None])
def test_anonymous_is_sent_to_login(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("path", [p for p, roles in PAGES.items() if roles is not None])
def test_roles(client: Any, actors: Any, path: str) -> None:
    for role in ROLES:
        client.force_login(actors[role].user)
        response = client.get(path)
        expected = {200, 302} if role in PAGES[path] else {403}
        assert response.status_code in expected, (role, path, response.status_code)
        client.logout()


def test_agency_without_agency_is_refused(client: Any, actors: Any) -> None:
    profile = actors["agency"].user.siaga_profile
    profile.agency = None
    profile.save()
    client.force_login(actors["agency"].user)
    assert client.get("/agency/").status_code == 403
