"""End to end: a fresh database, the real `siaga` commands, `siaga serve` on a port, demo traffic over HTTP."""

import json
import re
import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.servers import SIAGA, prepared_env, start

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Any:
    env = prepared_env(tmp_path_factory.mktemp("var"), "siaga_e2e")
    # load-reference twice: the second run must change nothing
    result = subprocess.run([*SIAGA, "load-reference"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "dibuat: tidak ada" in result.stdout, result.stdout + result.stderr
    node = start(env)
    yield {"url": node.url, "env": env, "credentials": node.credentials, "siaga": SIAGA}
    node.stop()


def test_pages_and_api_answer(server: Any) -> None:
    login = httpx.get(server["url"] + "/login/")
    assert login.status_code == 200 and "Masuk" in login.text
    assert httpx.get(server["url"] + "/", follow_redirects=False).status_code == 302
    assert httpx.get(server["url"] + "/static/console/siaga.css").status_code == 200
    headers = {"Authorization": f"Bearer {server['credentials']['supervisor_token']}"}
    kecamatan = httpx.get(server["url"] + "/api/v1/regions/kecamatan", headers=headers).json()
    assert len(kecamatan) == 8
    openapi = httpx.get(server["url"] + "/api/v1/openapi.json", follow_redirects=False)
    assert openapi.status_code == 302  # the API description is for logged-in users


def test_demo_calls_flow_through_the_real_endpoint(server: Any) -> None:
    # The demo shapes traffic by the hour of day (WIB): at 80 calls/hour on average, seed 11 gives 48 calls in
    # the quietest three hours of the night and 377 in the busiest afternoon, whenever the suite runs.
    headers = {"Authorization": f"Bearer {server['credentials']['supervisor_token']}"}
    before = len(httpx.get(server["url"] + "/api/v1/calls?limit=500", headers=headers).json())
    result = subprocess.run([*server["siaga"], "demo", "calls", "--url", server["url"], "--backfill", "--minutes",
                             "180", "--seed", "11", "--rate", "80"], env=server["env"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    sent = int(re.search(r"(\d+) panggilan simulasi dikirim", result.stdout).group(1))  # type: ignore[union-attr]
    calls = httpx.get(server["url"] + "/api/v1/calls?limit=500", headers=headers).json()
    assert sent >= 40 and len(calls) == before + sent  # every call the PBX reported is there
    # every audit row the server wrote (the CTI lane's too) was sealed by its sealer thread, in one chain
    for _ in range(50):
        chain = subprocess.run([*server["siaga"], "audit", "verify", "--no-seal", "--json"], env=server["env"],
                               capture_output=True, text=True, timeout=120)
        report = json.loads(chain.stdout)
        if report["unsealed"] == 0:
            break
        time.sleep(0.2)
    assert chain.returncode == 0 and report["ok"] and report["unsealed"] == 0, chain.stdout + chain.stderr
    assert report["seals"] == report["rows"] > sent
    outcomes = [c["outcome"] for c in calls]
    nuisance = sum(outcomes.count(o) for o in ("ghost", "prank", "information", "abandoned"))
    assert nuisance > len(calls) / 2  # mostly not emergencies, as Indonesian 112 centres report
    incidents = httpx.get(server["url"] + "/api/v1/incidents?limit=500", headers=headers).json()
    assert incidents and all(i["ticket"].startswith("CLG-") for i in incidents)
    assert any(i["status"] == "closed" for i in incidents)
    blocklist = httpx.get(server["url"] + "/api/v1/blocklist",
                          headers={"Authorization": f"Bearer {server['credentials']['pbx_token']}"}).json()
    assert blocklist["count"] >= 1  # the repeat prank callers
    # a restarted demo fills only the gap since the newest call: nothing older than what is there
    def when(row: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(row["offered_at"].replace("Z", "+00:00"))

    newest = max(when(c) for c in calls if c["offered_at"])
    again = subprocess.run([*server["siaga"], "demo", "calls", "--url", server["url"], "--backfill", "--fill-gap",
                            "--minutes", "180", "--seed", "12"], env=server["env"], capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    known = {c["id"] for c in calls}
    after = httpx.get(server["url"] + "/api/v1/calls?limit=500", headers=headers).json()
    added = [c for c in after if c["id"] not in known]
    assert all(when(c) >= newest for c in added if c["offered_at"]), (newest, added[:3])


def test_production_refuses_demo_data(server: Any) -> None:
    env = {**server["env"], "SIAGA_ENV": "production", "SIAGA_SECRET_KEY": "k" * 60}
    result = subprocess.run([*server["siaga"], "load-demo"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "never created in production" in result.stderr


def _failed_login_address(url: str, forwarded_for: str) -> str:
    """Fail one login through the real server with a forged X-Forwarded-For; the address audited for it."""
    name = f"nobody-{time.monotonic_ns()}"
    with httpx.Client(base_url=url) as browser:
        page = browser.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text[:500]
        response = browser.post("/login/", data={"csrfmiddlewaretoken": token.group(1), "username": name,
                                                 "password": "wrong"},
                                headers={"X-Forwarded-For": forwarded_for, "Referer": url + "/login/"})
        assert response.status_code == 200 and "salah" in response.text
    return name


def test_forwarded_headers_are_believed_only_from_configured_proxies(server: Any) -> None:
    headers = {"Authorization": f"Bearer {server['credentials']['supervisor_token']}"}

    def audited(url: str, name: str) -> str:
        rows = httpx.get(url + "/api/v1/audit", params={"action": "auth.login_failed", "object_id": name},
                         headers=headers).json()
        assert len(rows) == 1, rows
        return str(rows[0]["note"])

    # the default: no proxy is trusted, not even loopback (uvicorn's own default would trust 127.0.0.1)
    name = _failed_login_address(server["url"], "203.0.113.9")
    assert audited(server["url"], name) == "127.0.0.1"
    # the same deployment with its proxy configured: the proxy's X-Forwarded-For is the client's address
    proxied = start({**server["env"], "SIAGA_TRUSTED_PROXIES": "127.0.0.1/32"})
    try:
        name = _failed_login_address(proxied.url, "203.0.113.9")
        assert audited(proxied.url, name) == "203.0.113.9"
    finally:
        proxied.stop()


def _battery(post: Any, sign_headers: Any, tag: str, user_token: str, pbx_token: str) -> list[tuple[int, Any, Any]]:
    """The same requests for both doors of POST /api/v1/cti/events; (status, code or status word, field)."""
    from tests.calls.helpers import ev

    good = ev("offered", call=f"{tag}-1", caller="081234567890")
    auth = {"Authorization": f"Bearer {pbx_token}"}
    cases = [
        (json.dumps(good).encode(), auth),
        (json.dumps(good).encode(), auth),
        (json.dumps({**good, "caller": "0899"}).encode(), auth),
        (b'{"event_id": ', auth),
        (b"[]", auth),
        (json.dumps(ev("exploded", call=f"{tag}-2")).encode(), auth),
        (json.dumps({**ev("offered", call=f"{tag}-3"), "occurred_at": "2026-01-01T00:00:00"}).encode(), auth),
        (json.dumps(ev("offered", call=f"{tag}-4")).encode(), {}),
        (json.dumps(ev("offered", call=f"{tag}-5")).encode(), {"Authorization": "Bearer sgi_nope"}),
        (json.dumps(ev("offered", call=f"{tag}-6")).encode(), {"Authorization": f"Bearer {user_token}"}),
        (json.dumps({**ev("offered", call=f"{tag}-7"), "pad": "x" * 20000}).encode(), auth),
    ]
    body = json.dumps(ev("offered", call=f"{tag}-8", caller="0812")).encode()
    cases += [(body, sign_headers(body, good=True)), (body, sign_headers(body, good=False))]
    out = []
    for raw, headers in cases:
        status, document = post(raw, headers)
        error = document.get("error") if isinstance(document, dict) else None
        out.append((status, error["code"] if error else document.get("status"), error["field"] if error else None))
    return out


EXPECTED = [(201, "stored", None), (200, "duplicate", None), (409, "event_id_reused", "event_id"),
            (400, "malformed", None), (422, "invalid", None), (422, "invalid", "type"),
            (422, "invalid", "occurred_at"), (401, "unauthenticated", None), (401, "unauthenticated", None),
            (403, "forbidden", None), (413, "too_large", None), (201, "stored", None), (401, "unauthenticated", None)]


@pytest.mark.django_db
def test_both_doors_of_the_cti_endpoint_answer_alike(server: Any, client: Any, pbx: Any, actors: Any) -> None:
    """The ASGI lane of `siaga serve` and the django-ninja operation give the same answers."""
    from siaga.core.auth import sign

    created = subprocess.run([*server["siaga"], "integration", "create", "e2e-signed", "--kind", "pbx", "--hmac"],
                             env=server["env"], capture_output=True, text=True, timeout=60).stdout
    secret = next(line.split(": ", 1)[1] for line in created.splitlines() if line.startswith("hmac secret:"))

    def lane_sign(body: bytes, good: bool) -> dict[str, str]:
        stamp = str(int(time.time()))
        return {"X-Siaga-Integration": "e2e-signed", "X-Siaga-Timestamp": stamp,
                "X-Siaga-Signature": sign(secret if good else "wrong", stamp, body)}

    def lane_post(raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        response = httpx.post(server["url"] + "/api/v1/cti/events", content=raw,
                              headers={"Content-Type": "application/json", **headers})
        return response.status_code, response.json()

    lane = _battery(lane_post, lane_sign, f"lane{time.time_ns()}", server["credentials"]["supervisor_token"],
                    server["credentials"]["pbx_token"])

    def api_sign(body: bytes, good: bool) -> dict[str, str]:
        stamp = str(int(time.time()))
        return {"X-Siaga-Integration": "test-pbx", "X-Siaga-Timestamp": stamp,
                "X-Siaga-Signature": sign("s3cret-pbx-signing-key" if good else "wrong", stamp, body)}

    def api_post(raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
        response = client.post("/api/v1/cti/events", data=raw, content_type="application/json", **meta)
        return response.status_code, response.json()

    api = _battery(api_post, api_sign, "api", actors["supervisor"].token, pbx.token)
    assert lane == EXPECTED
    assert api == EXPECTED


def test_live_demo_leaves_the_human_operators_calls_to_them(server: Any) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()  # only this run's calls
    result = subprocess.run([*server["siaga"], "demo", "calls", "--url", server["url"], "--minutes", "3", "--speed",
                             "120", "--rate", "3000", "--seed", "5"], env=server["env"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    headers = {"Authorization": f"Bearer {server['credentials']['supervisor_token']}"}
    calls = httpx.get(server["url"] + "/api/v1/calls", params={"limit": 500, "since": since}, headers=headers).json()
    mine = [c for c in calls if c["agent"] == "2001" and c["state"] == "ended"]
    others = [c for c in calls if c["agent"] in ("2002", "2003") and c["state"] == "ended"]
    assert mine and others
    assert all(c["outcome"] == "" for c in mine)  # waiting for the person logged in as `operator`
    assert all(c["outcome"] != "" for c in others)


def test_a_deactivated_pbx_is_refused_within_the_token_cache_lifetime(server: Any) -> None:
    """The CTI lane keeps PBX tokens in a cache, refreshed ahead of expiry off the request path: a PBX
    sending steadily never waits for the refresh, and a deactivated one is refused within 5 s (+ margin)."""
    headers = {"Authorization": f"Bearer {server['credentials']['pbx_token']}"}
    toggle = "from siaga.core.models import Integration; Integration.objects.filter(kind='pbx').update(active={})"

    def shell(code: str) -> None:
        result = subprocess.run([*server["siaga"], "shell", "-c", code], env=server["env"], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr

    statuses: list[int] = []
    with httpx.Client(base_url=server["url"], headers=headers, timeout=10) as client:
        def send(n: int) -> int:
            response = client.post("/api/v1/cti/events", json={
                "event_id": f"cache-{n}", "type": "call.offered", "call_id": f"cache-{n}",
                "occurred_at": datetime.now(UTC).isoformat(), "caller": "081234567890"})
            return response.status_code

        started = time.monotonic()
        n = 0
        while time.monotonic() - started < 7:  # longer than the cache: the refreshes happen meanwhile
            n += 1
            statuses.append(send(n))
            time.sleep(0.05)
        assert set(statuses) == {201}, statuses
        try:
            shell(toggle.format(False))
            refused_after = None
            deactivated = time.monotonic()
            while time.monotonic() - deactivated < 12:
                n += 1
                if send(n) == 401:
                    refused_after = time.monotonic() - deactivated
                    break
                time.sleep(0.05)
            assert refused_after is not None and refused_after < 5 + 1.5, refused_after
            n += 1
            assert send(n) == 401  # and it stays refused
        finally:
            shell(toggle.format(True))
