"""A small AMI server for tests: the real manager protocol (banner, Login, Ping, events), replaying a transcript.

It answers like Asterisk's manager: ``Asterisk Call Manager/5.0.1`` on connect, ``Response: Success`` /
``Message: Authentication accepted`` for a good Login (``Response: Error`` and a close otherwise), then
``FullyBooted`` and the transcript's events, each block ending with an empty line, CRLF throughout.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

TRANSCRIPT = Path(__file__).resolve().parent.parent / "data" / "ami" / "transcript.ami"


def transcript_blocks(path: Path = TRANSCRIPT) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [block.strip("\n") for block in text.split("\n\n") if block.strip()]


class FakeAmi:
    def __init__(self, username: str, secret: str, blocks: list[str] | None = None) -> None:
        self.username, self.secret = username, secret
        self.blocks = blocks if blocks is not None else transcript_blocks()
        self.logins: list[tuple[str, bool]] = []
        self.sent_events = 0
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    @staticmethod
    def _wire(lines: list[str]) -> bytes:
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/5.0.1\r\n")
        await writer.drain()
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                action = {}
                for line in raw.decode().strip().split("\r\n"):
                    key, _, value = line.partition(":")
                    action[key.strip().lower()] = value.strip()
                action_id = action.get("actionid", "")
                name = action.get("action", "").lower()
                if name == "login":
                    ok = action.get("username") == self.username and action.get("secret") == self.secret
                    self.logins.append((action.get("username", ""), ok))
                    if not ok:
                        writer.write(self._wire(["Response: Error", f"ActionID: {action_id}",
                                                 "Message: Authentication failed"]))
                        await writer.drain()
                        writer.close()
                        return
                    writer.write(self._wire(["Response: Success", f"ActionID: {action_id}",
                                             "Message: Authentication accepted"]))
                    writer.write(self._wire(["Event: FullyBooted", "Privilege: system,all", "Uptime: 12",
                                             "LastReload: 12", "Status: Fully Booted"]))
                    await writer.drain()
                    for block in self.blocks:
                        writer.write(self._wire(block.split("\n")))
                        self.sent_events += 1
                    await writer.drain()
                elif name == "ping":
                    writer.write(self._wire(["Response: Success", f"ActionID: {action_id}", "Ping: Pong",
                                             f"Timestamp: {time.time():.6f}"]))
                    await writer.drain()
                else:
                    writer.write(self._wire(["Response: Error", f"ActionID: {action_id}",
                                             "Message: Invalid/unknown command"]))
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
