"""Start real `siaga serve` processes for end-to-end tests, each on a database prepared by the real commands."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests import clock

SIAGA = clock.siaga()


REDIS_URL = os.environ.get("SIAGA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_redis() -> str:
    """The test Redis URL; skips when it does not answer, unless CI or SIAGA_REQUIRE_REDIS asks for it."""
    import pytest
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") or os.environ.get("SIAGA_REQUIRE_REDIS"):
            raise
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_TEMPLATE: dict[str, Any] = {}


def _base_env(var: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    # no test server asks the real BMKG (there is no internet here, and BMKG must not be hammered by tests)
    env.update({"SIAGA_VAR_DIR": str(var), "SIAGA_ENV": "development", "SIAGA_DEBUG": "0",
                "SIAGA_HAZARD_POLLING": "0", **(extra or {})})
    return env


def _admin_connection() -> Any:
    import psycopg

    base = os.environ["SIAGA_TEST_DATABASE_URL"].rpartition("/")[0]
    return psycopg.connect(f"{base}/postgres", autocommit=True)


def _worker_suffix() -> str:
    """pytest-xdist runs tests in several processes at once: each gets databases of its own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"_{worker}" if worker else ""


def _template() -> dict[str, Any]:
    """One deployment prepared by the real commands (migrate, load-reference, load-demo) per test process;
    every server of the run starts from a copy of it (a file copy on SQLite, ``CREATE DATABASE ...
    TEMPLATE`` on PostgreSQL) instead of migrating again. It is removed when the process ends."""
    if _TEMPLATE:
        return _TEMPLATE
    import atexit
    import shutil
    import tempfile

    var = Path(tempfile.mkdtemp(prefix="siaga-template-"))
    env = _base_env(var)
    database = None
    if os.environ.get("SIAGA_TEST_DATABASE_URL"):
        database = f"siaga_template{_worker_suffix()}_{os.getpid()}"
        with _admin_connection() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {database}")
        env["SIAGA_DATABASE_URL"] = os.environ["SIAGA_TEST_DATABASE_URL"].rpartition("/")[0] + "/" + database
    for command in (["migrate", "--noinput"], ["load-reference"], ["load-demo"]):
        result = subprocess.run([*SIAGA, *command], env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, (command, result.stdout, result.stderr)

    def remove() -> None:
        shutil.rmtree(var, ignore_errors=True)
        if database:
            with contextlib.suppress(Exception), _admin_connection() as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    atexit.register(remove)
    _TEMPLATE.update(var=var, database=database)
    return _TEMPLATE


def prepared_env(var: Path, database: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a fresh deployment in ``var``, migrated and loaded with Cilegon's reference data and the
    demo logins (a copy of the run's template); ``database`` names a PostgreSQL database in the PG pass."""
    import shutil

    template = _template()
    env = _base_env(var, extra)
    shutil.copytree(template["var"], var, dirs_exist_ok=True)
    if template["database"]:
        database += _worker_suffix()
        with _admin_connection() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {database} TEMPLATE {template['database']}")
        env["SIAGA_DATABASE_URL"] = os.environ["SIAGA_TEST_DATABASE_URL"].rpartition("/")[0] + "/" + database
    return env


@dataclass
class Server:
    url: str
    env: dict[str, str]
    proc: subprocess.Popen[str]
    credentials: dict[str, str] = field(default_factory=dict)

    def kill(self) -> None:
        """kill -9 of every process of the node (uvicorn's supervisor and its workers): no clean-up at all."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials[who + '_token']}"}


def start(env: dict[str, str], workers: int = 1, output: Any = None, port: int | None = None) -> Server:
    """``output``: a file for the node's log (by default a pipe, read only if the node does not come up; a
    node that logs much must be given a file, or it blocks on a full pipe). ``port``: one chosen already
    (another program, a gateway, was told where to call the node)."""
    port = port or free_port()
    proc = subprocess.Popen([*SIAGA, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                            stdout=output if output is not None else subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("siaga serve did not come up: " + (proc.stdout.read() if proc.stdout else "see its log"))
    credentials = json.loads((Path(env["SIAGA_VAR_DIR"]) / "demo" / "credentials.json").read_text())
    return Server(url, env, proc, credentials)


def logged_in(url: str, username: str, password: str) -> httpx.Client:
    """An HTTP client logged in through the login form, as a browser is (its session cookie set). It is
    open already: close it when done (a ``with`` block would try to open it again)."""
    client = httpx.Client(base_url=url)
    client.get("/login/")
    client.post("/login/", data={"username": username, "password": password,
                                 "csrfmiddlewaretoken": client.cookies["csrftoken"]})
    assert "sessionid" in client.cookies, f"{username} could not log in"
    return client


def session_header(client: httpx.Client) -> dict[str, str]:
    return {"Cookie": f"sessionid={client.cookies['sessionid']}"}


class SseReader:
    """Reads an SSE stream in a thread; ``next(topic)`` waits for the next message of a topic."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.status: int | None = None
        self._opened = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, headers), daemon=True)
        self._thread.start()
        if not self._opened.wait(10):
            raise RuntimeError("the live stream did not open")

    def _run(self, url: str, headers: dict[str, str]) -> None:
        try:
            self._read(url, headers)
        except httpx.HTTPError:  # the server stopped: the stream ends
            self._opened.set()

    def _read(self, url: str, headers: dict[str, str]) -> None:
        with httpx.Client(timeout=httpx.Timeout(5, read=None)) as client, \
                client.stream("GET", url, headers=headers) as response:
            self.status = response.status_code
            if response.status_code != 200:
                self._opened.set()
                return
            for line in response.iter_lines():
                if line.startswith("data: "):
                    message = json.loads(line[6:])
                    message["received"] = time.monotonic()
                    if message["topic"] == "hello":
                        self._opened.set()
                    self.messages.put(message)
                if self._stop.is_set():
                    return

    def next(self, topic: str, timeout: float = 5.0, where: Any = None) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {topic} message within {timeout} s")
            message = self.messages.get(timeout=remaining)
            if message["topic"] == topic and (where is None or where(message["data"])):
                return message

    def until(self, topic: str, where: Any = None, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Every message up to and including the next of ``topic`` (matching ``where``): a stream keeps the
        order of publication, so whatever was published before that one is in the list, and nothing
        has to be waited for by the clock."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {topic} message within {timeout} s (saw {[m['topic'] for m in seen]})")
            try:
                message = self.messages.get(timeout=remaining)
            except queue.Empty:
                continue
            seen.append(message)
            if message["topic"] == topic and (where is None or where(message["data"])):
                return seen

    def drain(self, seconds: float) -> list[dict[str, Any]]:
        time.sleep(seconds)
        out = []
        while not self.messages.empty():
            out.append(self.messages.get_nowait())
        return out

    def close(self) -> None:
        self._stop.set()


def wait_for(predicate: Callable[[], Any], seconds: float = 30, what: str = "") -> Any:
    """The predicate's first true value within ``seconds`` (an HTTP error counts as not yet); else fail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}")

