"""UDP addresses of the carousel and the receivers: ``HOST:PORT``, multicast groups included."""

from __future__ import annotations

import ipaddress


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"a UDP address is HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def is_multicast(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_multicast
    except ValueError:
        return False
