"""Two Siaga112 servers on loopback, the call centre (A) and the Setda command centre (B), hand an incident
over and back as EIDO documents through each other's POST /api/v1/eido (signed webhooks of format eido):
each shows the other's updates, and neither echoes the other's changes back forever."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.datafiles import EIDO_SCHEMA as SCHEMA
from tests.e2e.servers import SIAGA, Server, free_port, prepared_env, start, wait_for

pytestmark = pytest.mark.slow


def siaga(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*SIAGA, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def partner_credentials(env: dict[str, str], name: str) -> str:
    out = siaga(env, "integration", "create", name, "--kind", "partner", "--hmac")
    return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("hmac secret:"))


def webhook(env: dict[str, str], url: str, secret: str, our_name_there: str, their_integration_here: str) -> None:
    siaga(env, "shell", "-c",
          "from siaga.webhooks.models import Webhook; from siaga.core.models import Integration; "
          f"Webhook.objects.create(name='partner', url='{url}/api/v1/eido', secret='{secret}', "
          f"topics='incident.,dispatch.', format='eido', partner_name='{our_name_there}', "
          f"partner=Integration.objects.get(name='{their_integration_here}'))")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: Any) -> Any:
    ports = {"a": free_port(), "b": free_port()}
    envs = {}
    for side, issuer, database in (("a", "cc.cilegon.test", "siaga_eido_a"), ("b", "setda.cilegon.test",
                                                                              "siaga_eido_b")):
        envs[side] = prepared_env(tmp_path_factory.mktemp(f"eido-{side}"), database, {
            "SIAGA_EIDO_ISSUER": issuer, "SIAGA_EIDO_SCHEMA_DIR": str(SCHEMA), "SIAGA_ALERT_CHANNELS": "web"})
    secret_for_a = partner_credentials(envs["b"], "cc-a")  # B knows A as cc-a
    secret_for_b = partner_credentials(envs["a"], "setda-b")  # A knows B as setda-b
    webhook(envs["a"], f"http://127.0.0.1:{ports['b']}", secret_for_a, "cc-a", "setda-b")
    webhook(envs["b"], f"http://127.0.0.1:{ports['a']}", secret_for_b, "setda-b", "cc-a")
    logs = tmp_path_factory.mktemp("logs")
    servers = {side: start(envs[side], port=ports[side], output=(Path(logs) / f"{side}.log").open("w"))
               for side in ("a", "b")}
    yield servers
    for server in servers.values():
        server.stop()


def api(server: Server, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{server.url}/api/v1{path}", headers=server.headers("supervisor"),
                             timeout=15, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


def copy_at(server: Server, tracking: str) -> dict[str, Any] | None:
    for row in api(server, "GET", "/incidents?open=true&limit=100"):
        detail = api(server, "GET", f"/incidents/{row['id']}")
        if api(server, "GET", f"/incidents/{row['id']}/eido")["$id"] == tracking:
            return detail
    return None


def test_an_incident_handed_over_and_back(pair: dict[str, Server]) -> None:
    a, b = pair["a"], pair["b"]
    incident = api(a, "POST", "/incidents", json={
        "category": "kebocoran-gas-kimia", "lat": -6.0124, "lon": 105.9829, "address": "Kawasan industri Ciwandan",
        "description": "Bau amonia menyengat dari pabrik"})
    tracking = f"urn:emergency:uid:incidentid:{incident['ticket']}:cc.cilegon.test"
    api(a, "POST", f"/incidents/{incident['id']}/dispatches", json={"agency": "damkar"})
    at_b = wait_for(lambda: copy_at(b, tracking), 30, "B to receive A's incident")
    assert at_b["category_name"].startswith("Kebocoran gas")
    assert at_b["description"] == "Bau amonia menyengat dari pabrik"
    assert at_b["kecamatan"] == "Ciwandan"
    wait_for(lambda: [d["agency"] for d in copy_at(b, tracking)["dispatches"]] == ["damkar"], 30, "A's dispatch at B")

    # B, the command centre, adds a note and sends BPBD: A shows both, under B's name
    api(b, "POST", f"/incidents/{at_b['id']}/notes", json={"text": "BPBD Provinsi disiagakan, jalur evakuasi dibuka"})
    api(b, "POST", f"/incidents/{at_b['id']}/dispatches", json={"agency": "bpbd"})

    def a_shows_b() -> dict[str, Any] | None:
        detail = api(a, "GET", f"/incidents/{incident['id']}")
        notes = [e for e in detail["timeline"] if e["kind"] == "note"]
        return detail if any("jalur evakuasi" in e["message"] and e["data"].get("eido_agency") ==
                             "setda.cilegon.test" for e in notes) and \
            {d["agency"] for d in detail["dispatches"]} == {"damkar", "bpbd"} else None

    at_a = wait_for(a_shows_b, 30, "A to show B's note and dispatch")
    assert next(e for e in at_a["timeline"] if e["kind"] == "dispatch" and "BPBD" in e["message"])["actor"] == \
        "eido:setda.cilegon.test"

    # A's damkar crew acknowledges: B's copy follows
    damkar = next(d for d in at_a["dispatches"] if d["agency"] == "damkar")
    api(a, "POST", f"/dispatches/{damkar['id']}/status", json={"status": "acknowledged"})
    wait_for(lambda: next(d for d in copy_at(b, tracking)["dispatches"] if d["agency"] == "damkar")["status"] ==
             "acknowledged", 30, "B to show damkar acknowledged")

    # and it settles: neither side keeps sending (no echo loop), each incident exists once on each side
    def deliveries() -> list[int]:
        return [int(siaga(server.env, "shell", "-c", "from siaga.webhooks.models import Delivery; "
                                                     "print(Delivery.objects.count())").strip().splitlines()[-1])
                for server in (a, b)]

    def settled() -> bool:
        counts = deliveries()
        time.sleep(3)
        return counts == deliveries()

    wait_for(settled, 60, "the two centres to stop sending")
    for server in (a, b):  # one incident with this tracking identifier on each side
        rows = api(server, "GET", "/incidents?limit=100")
        assert sum(api(server, "GET", f"/incidents/{r['id']}/eido")["$id"] == tracking for r in rows) == 1
