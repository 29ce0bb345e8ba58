"""The documented production start (docs/deploy.md), from nothing: deploy/install.sh into an empty root with a
new virtualenv and an empty PostgreSQL database; the systemd units it writes pass `systemd-analyze verify`;
the node is started exactly as its unit says (its EnvironmentFile, WorkingDirectory and ExecStart, with
systemd's ${VAR} expansion), behind the nginx site it writes, with TLS; a PBX posts through the proxy; the
backup and audit units do their work; SIGTERM stops the node within the unit's TimeoutStopSec.

There is no systemd as PID 1 here (nor in CI), so systemctl itself is the one step not run. PostgreSQL
pass only: production runs on PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import signal
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.servers import free_port

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
UNITS = ("siaga.service", "siaga-backup.service", "siaga-backup.timer", "siaga-audit.service", "siaga-audit.timer")


def unit(path: Path) -> dict[str, str]:
    """The [Service] keys of a unit file (the last value of a key wins, as in systemd)."""
    keys: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            keys[key.strip()] = value.strip()
    return keys


def environment_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def systemd_command(exec_start: str, env: dict[str, str]) -> list[str]:
    """ExecStart as systemd runs it: ${NAME} from the environment, $$ an escaped $."""
    expanded = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), exec_start).replace("$$", "$")
    if expanded.startswith("/bin/sh -c '"):
        return ["/bin/sh", "-c", expanded[len("/bin/sh -c '"):-1]]
    return expanded.split()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: Any) -> Any:
    test_db = os.environ.get("SIAGA_TEST_DATABASE_URL")
    if not test_db:
        pytest.skip("the production start runs on PostgreSQL: the PostgreSQL pass runs this")
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        if os.environ.get("SIAGA_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is not installed (SIAGA_REQUIRE_NGINX=1)")
        pytest.skip("nginx is not installed")
    import psycopg

    base = test_db.rpartition("/")[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS siaga_deploy WITH (FORCE)")
        conn.execute("CREATE DATABASE siaga_deploy")
    root = tmp_path_factory.mktemp("machine")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=siaga.test", "-addext", "subjectAltName=DNS:siaga.test,IP:127.0.0.1",
                    "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
                   check=True, capture_output=True)
    port, http_port, https_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIAGA_", "VIRTUAL_ENV"))}
    done = subprocess.run(["bash", str(REPO / "deploy" / "install.sh"), "--root", str(root), "--source", str(REPO),
                           "--user", subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip(),
                           "--no-systemctl", "--database-url", f"{base}/siaga_deploy", "--server-name",
                           "siaga.test", "--node-name", "deploy-a", "--cert", str(root / "cert.pem"),
                           "--cert-key", str(root / "key.pem"), "--port", str(port), "--http-port", str(http_port),
                           "--https-port", str(https_port)], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {"root": root, "port": port, "http": http_port, "https": https_port, "nginx": nginx,
            "out": done.stdout, "env": environment_file(root / "etc" / "siaga" / "siaga.env")}


def test_the_installer_wrote_a_production_configuration(installed: Any) -> None:
    root, env = installed["root"], installed["env"]
    assert env["SIAGA_ENV"] == "production" and env["SIAGA_TRUSTED_PROXIES"] == "127.0.0.1"
    assert env["SIAGA_ALLOWED_HOSTS"] == "siaga.test" and env["SIAGA_PORT"] == str(installed["port"])
    key = root / "etc" / "siaga" / "secret_key"
    assert len(key.read_text().strip()) >= 50 and key.stat().st_mode & 0o077 in (0, 0o040)  # not world-readable
    assert (root / "opt" / "siaga" / "venv" / "bin" / "siaga").exists()
    assert "== siaga check --deploy" in installed["out"] and "siaga.E0" not in installed["out"]
    assert not any(f"{{{name}}}" in (root / "etc" / "systemd" / "system" / "siaga.service").read_text()
                   for name in ("VENV", "ETC", "VAR"))
    assert all("@" not in (root / "etc" / "systemd" / "system" / name).read_text().replace("@ETC", "")
               for name in UNITS)


def test_the_units_pass_systemd_analyze_verify(installed: Any) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    folder = installed["root"] / "etc" / "systemd" / "system"
    done = subprocess.run(["systemd-analyze", "verify", *(str(folder / name) for name in UNITS)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_the_node_starts_as_its_unit_says_and_serves_through_tls(installed: Any) -> None:
    root, env = installed["root"], installed["env"]
    service = unit(root / "etc" / "systemd" / "system" / "siaga.service")
    assert service["EnvironmentFile"] == str(root / "etc" / "siaga" / "siaga.env")
    process_env = {"PATH": "/usr/bin:/bin", **environment_file(Path(service["EnvironmentFile"]))}
    log = (root / "node.log").open("w")  # what journald would keep
    node = subprocess.Popen(systemd_command(service["ExecStart"], process_env), env=process_env,
                            cwd=service["WorkingDirectory"], stdout=log, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    conf = root / "nginx.conf"
    conf.write_text(f"pid {root}/nginx.pid;\nerror_log {root}/nginx-error.log;\nevents {{}}\nhttp {{\n"
                    f"  access_log {root}/nginx-access.log;\n  client_body_temp_path {root}/nginx-body;\n"
                    f"  proxy_temp_path {root}/nginx-proxy;\n"
                    f"  include {root}/etc/nginx/sites-available/siaga.conf;\n}}\n")
    check = subprocess.run([installed["nginx"], "-t", "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proxy = subprocess.Popen([installed["nginx"], "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.PIPE)
    https = f"https://127.0.0.1:{installed['https']}"
    try:
        direct = f"http://127.0.0.1:{env['SIAGA_PORT']}"
        deadline = time.monotonic() + 60
        while True:
            try:  # a health check names the service's host, as the proxy does (ALLOWED_HOSTS)
                if httpx.get(direct + "/readyz", headers={"Host": "siaga.test"}, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and node.poll() is None, (root / "node.log").read_text()[-3000:]
            time.sleep(0.3)
        tls = ssl.create_default_context(cafile=str(root / "cert.pem"))  # the proxy's certificate, verified
        with httpx.Client(base_url=https, verify=tls, headers={"Host": "siaga.test"}, timeout=10) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["ready"] is True
            assert ready.json()["node"].startswith("deploy-a")
            assert ready.headers["strict-transport-security"] == "max-age=31536000"
            login = client.get("/login/")
            assert login.status_code == 200 and "csrftoken" in login.cookies
            assert "secure" in login.headers["set-cookie"].lower()  # production cookies, HTTPS seen through the proxy
            assert client.get("/metrics").status_code == 401
            # Server-Sent Events through the proxy arrive at once (not held in nginx's buffer)
            with client.stream("GET", "/peringatan/stream") as stream:
                started = time.monotonic()
                first = next(line for line in stream.iter_lines() if line.startswith("data: "))
                assert '"hello"' in first and time.monotonic() - started < 3
            # a PBX registered on the installed node posts a CTI event through the proxy
            # (with the wrapper the installer writes for people: the node's settings, nothing else set)
            made = subprocess.run([str(root / "opt" / "siaga" / "bin" / "siaga"), "integration", "create",
                                   "pbx-deploy", "--kind", "pbx"], env={"PATH": "/usr/bin:/bin"},
                                  capture_output=True, text=True, check=True).stdout
            token = next(line.split(": ", 1)[1] for line in made.splitlines() if line.startswith("token:"))
            posted = client.post("/api/v1/cti/events", headers={"Authorization": f"Bearer {token}"}, json={
                "event_id": "deploy-1:offered", "type": "call.offered", "call_id": "deploy-1",
                "caller": "081234567890", "occurred_at": "2026-01-05T03:00:00+00:00"})
            assert posted.status_code == 201, posted.text
        plain = httpx.get(f"http://127.0.0.1:{installed['http']}/login/", headers={"Host": "siaga.test"})
        assert plain.status_code == 301 and plain.headers["location"].startswith("https://siaga.test:")

        for name in ("siaga-backup.service", "siaga-audit.service", "siaga-audit.service"):
            job = unit(root / "etc" / "systemd" / "system" / name)
            done = subprocess.run(systemd_command(job["ExecStart"], process_env), env=process_env,
                                  cwd=job["WorkingDirectory"], capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, (name, done.stdout, done.stderr)
        backups = list((Path(env["SIAGA_BACKUP_DIR"])).glob("siaga-*.dump"))
        assert len(backups) == 1 and backups[0].with_suffix(".json").exists()
        head = (Path(env["SIAGA_VAR_DIR"]) / "audit-head").read_text().strip()
        assert re.fullmatch(r"\d+:[0-9a-f]{64}", head), head

        stopped = time.monotonic()
        os.killpg(node.pid, signal.SIGTERM)
        node.wait(timeout=float(service["TimeoutStopSec"]))
        assert time.monotonic() - stopped < float(service["TimeoutStopSec"])
    finally:
        if node.poll() is None:
            os.killpg(node.pid, signal.SIGKILL)
        log.close()
        proxy.send_signal(signal.SIGQUIT)
        proxy.wait(timeout=10)
