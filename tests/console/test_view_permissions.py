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
    "/readyz": None,
    "/peringatan/": None,  # the public warnings: tested in tests/alerts/test_pages.py
    "/peringatan/feed.atom": None,
    "/peringatan/<int:alert_id>/": None,
    "/peringatan/<int:alert_id>.xml": None,
    "/peringatan/<int:alert_id>.wav": None,
    "/peringatan/kelola/": {"operator", "supervisor", "admin", "wall"},
    # POST only: allowed roles get 405 to a GET, the others 403
    "/peringatan/kelola/<int:thread_id>/update": {"supervisor", "admin"},
    "/peringatan/kelola/<int:thread_id>/cancel": {"supervisor", "admin"},
    "/peringatan/kelola/draft": {"operator", "supervisor", "admin"},
    "/peringatan/kelola/draft/<int:draft_id>/decide": {"supervisor", "admin"},
    "/peringatan/kelola/resend": {"admin"},
    "/peringatan/kelola/gempa/<int:event_id>/tinjau": {"supervisor", "admin"},
    "/l/<str:code>": None,  # the place of a dispatch, for a crew's SMS: tested in tests/sms/test_inbound.py
}
# URL prefixes with their own, separately tested, protection (/metrics: a machine's bearer token, 401 not a
# login page: tests/runtime/test_metrics.py; sms/kannel/: the gateway's secret and signatures,
# tests/sms/test_endpoints.py)
OTHERS = ("admin/", "api/v1/", "i18n/", "metrics", "sms/kannel/")


def _routes(patterns: list[Any], prefix: str = "") -> list[str]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith(OTHERS):
                continue
            found += _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and not route.startswith(OTHERS):
            found.append("/" + route)
    return found


def test_the_table_lists_every_page() -> None:
    assert set(_routes(get_resolver().url_patterns)) == set(PAGES)


def _concrete(path: str) -> str:
    return path.replace("<int:thread_id>", "1").replace("<int:draft_id>", "1").replace("<int:alert_id>", "1") \
        .replace("<int:event_id>", "1")


@pytest.mark.parametrize("path", [p for p, roles in PAGES.items() if roles is not None])
def test_anonymous_is_sent_to_login(client: Any, path: str) -> None:
    response = client.get(_concrete(path))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("path", [p for p, roles in PAGES.items() if roles is not None])
def test_roles(client: Any, actors: Any, path: str) -> None:
    for role in ROLES:
        client.force_login(actors[role].user)
        response = client.get(_concrete(path))
        allowed = {405} if "/kelola/" in path and path != "/peringatan/kelola/" else {200, 302}
        expected = allowed if role in PAGES[path] else {403}
        assert response.status_code in expected, (role, path, response.status_code)
        client.logout()


def test_agency_without_agency_is_refused(client: Any, actors: Any) -> None:
    profile = actors["agency"].user.siaga_profile
    profile.agency = None
    profile.save()
    client.force_login(actors["agency"].user)
    assert client.get("/agency/").status_code == 403
