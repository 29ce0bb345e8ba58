"""Typed reading of ``SIAGA_*`` environment variables.

Settings are layered: defaults in ``settings.py`` -> these environment variables -> values computed from
both. Every getter names the variable and what it accepts when the value is wrong, so a mistyped
deployment fails at start with a sentence an operator can act on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PREFIX = "SIAGA_"
_TRUE = {"1", "true", "yes", "on", "y", "ya"}
_FALSE = {"0", "false", "no", "off", "n", "tidak", ""}


class Env:
    """Reads ``SIAGA_*`` variables from a mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        return self.environ.get(PREFIX + name)

    def str(self, name: str, default: str) -> str:
        value = self.raw(name)
        return default if value is None else value

    def optional(self, name: str) -> str | None:
        value = self.raw(name)
        return value if value else None

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{PREFIX}{name}={value!r} is not a boolean; use 1/0, true/false or yes/no.")

    def int(self, name: str, default: int, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{PREFIX}{name}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{PREFIX}{name}={number} is below the minimum {minimum}.")
        return number

    def float(self, name: str, default: float) -> float:
        value = self.raw(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except ValueError:
            raise ImproperlyConfigured(f"{PREFIX}{name}={value!r} is not a number.") from None

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self.raw(name)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def networks(self, name: str) -> list[str]:
        """A comma-separated list of IP addresses or CIDR networks (empty by default), each checked."""
        import ipaddress

        values = self.list(name, [])
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ImproperlyConfigured(f"{PREFIX}{name}: {value!r} is not an IP address or network "
                                           "(like 10.0.0.5 or 10.0.0.0/24).") from None
        return values

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.str(name, default).strip().lower()
        if value not in choices:
            raise ImproperlyConfigured(f"{PREFIX}{name}={value!r} is not one of: {', '.join(choices)}.")
        return value

    def path(self, name: str, default: Path) -> Path:
        value = self.raw(name)
        return Path(value).expanduser().resolve() if value else default
