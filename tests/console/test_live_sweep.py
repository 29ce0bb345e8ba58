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
    valid = {"Bearer good", "Bearer doomed"}
    sweeps: list[list[str]] = []  # the credentials each sweep checked, in one thread hop

    def principal(headers: dict[str, str]) -> Principal | None:
        return WALL if headers["authorization"] in valid else None

    monkeypatch.setattr(live, "_principal", principal)
    check = live._principals_in_thread

    async def counted(headers: list[dict[str, str]]) -> list[Principal | None]:
        task = asyncio.current_task()
        if task is not None and task.get_coro().__qualname__ == "_sweep":  # type: ignore[union-attr]
            sweeps.append([h["authorization"] for h in headers])
        return await check(headers)  # type: ignore[no-any-return]

    monkeypatch.setattr(live, "_principals_in_thread", counted)

    async def until(condition: Any, what: str) -> None:
        """Wait on events, not on the clock: a loaded CI machine may take seconds to open 40 streams."""
        for _ in range(400):
            if condition():
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"not within 10 s: {what}")

    async def scenario() -> tuple[list[list[str]], list[list[str]]]:
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
        await until(lambda: len(outputs) == 40 and all(o[:1] == ["hello"] for o in outputs), "40 streams open")
        opened = len(sweeps)
        await until(lambda: len(sweeps) >= opened + 3, "three sweeps over the open streams")
        full = sweeps[opened:opened + 3]
        valid.discard("Bearer doomed")
        await until(lambda: all(o[-1:] == ["session.ended"] for o in outputs[0::2]), "the doomed streams ended")
        for stop in stops:
            stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        return outputs, full

    outputs, full = asyncio.run(scenario())
    # with all 40 streams open, each sweep checks the two distinct credentials once each, not 40
    assert [sorted(batch) for batch in full] == [["Bearer doomed", "Bearer good"]] * 3, full
    doomed, good = outputs[0::2], outputs[1::2]
    assert all(o == ["hello", "session.ended"] for o in doomed), doomed
    assert all(o == ["hello"] for o in good), good
    assert not any(live._watched.values())  # every closed stream stopped being watched
