"""Open live streams re-check their credentials in one sweep per event loop: one check per credential.

The real look-up (tokens, sessions, against the database) is exercised end to end in tests/e2e/test_live.py;
here it is counted, to prove that many streams sharing a credential cost one check per sweep and that
a failed credential ends its own streams only."""

import asyncio
import json
from typing import Any

from siaga.console import live
from siaga.core.roles import Principal, Role

WALL = Principal(roles=frozenset({Role.WALL}), label="user:wall")


def test_streams_sharing_a_credential_are_checked_once_a_sweep(settings: Any, monkeypatch: Any) -> None:
    settings.LIVE_RECHECK_SECONDS = 0.1
    checks: list[str] = []
    valid = {"Bearer good", "Bearer doomed"}

    def principal(headers: dict[str, str]) -> Principal | None:
        checks.append(headers["authorization"])
        return WALL if headers["authorization"] in valid else None

    monkeypatch.setattr(live, "_principal", principal)

    async def scenario() -> tuple[list[list[str]], list[str]]:
        outputs: list[list[str]] = []
        stops: list[asyncio.Event] = []

        async def one(token: str) -> None:
            sent: list[str] = []
            outputs.append(sent)
            stop = asyncio.Event()
            stops.append(stop)

            async def receive() -> dict[str, Any]:
                await stop.wait()
                return {"type": "http.disconnect"}

            async def send(message: dict[str, Any]) -> None:
                for line in message.get("body", b"").split(b"\n"):
                    if line.startswith(b"data: "):
                        sent.append(json.loads(line[6:])["topic"])

            await live.asgi_endpoint({"type": "http", "headers": [(b"authorization", token.encode())],
                                      "query_string": b""}, receive, send)

        tasks = [asyncio.create_task(one("Bearer good" if i % 2 else "Bearer doomed")) for i in range(40)]
        await asyncio.sleep(0.35)  # the opening checks and about three sweeps
        sweeps_before = len(checks)
        valid.discard("Bearer doomed")
        await asyncio.sleep(0.3)
        for stop in stops:
            stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        return outputs, checks[:sweeps_before]

    outputs, early = asyncio.run(scenario())
    # 40 opening checks, then two a sweep (one per distinct credential), not 40
    sweeps = early[40:]
    assert sweeps and len(sweeps) % 2 == 0 and len(sweeps) <= 8
    assert sorted(set(sweeps)) == ["Bearer doomed", "Bearer good"]
    doomed, good = outputs[0::2], outputs[1::2]
    assert all(o == ["hello", "session.ended"] for o in doomed), doomed
    assert all(o == ["hello"] for o in good), good
    assert not any(live._watched.values())  # every closed stream stopped being watched
