"""Active public warnings, as the wall and pages show them.

Warnings are issued by the alerts app (BMKG quakes, tsunami warnings, manual alerts). That app registers a
provider here; the wall asks :func:`active` and shows a banner per warning, and makes the evacuation layer
prominent when one of them is full-screen. With no provider registered there are no warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict


class Warning(TypedDict):
    id: str
    headline: str
    level: str  # "ticker" | "fullscreen"
    issued_at: str
    exercise: bool
    review: list[str]  # why a person should check the automatic decision behind it (codes); empty: nothing
    ews_level: str  # "" | "WASPADA" | "SIAGA" | "AWAS": what a person reads first
    event: str  # the CAP event in Bahasa Indonesia ("Gempabumi", "Banjir"): read when there is no level
    area_codes: list[str]  # Kemendagri codes of the kecamatan it covers (empty: the whole city)
    expires: str | None


_providers: list[Callable[[], list[Warning]]] = []


def register_provider(provider: Callable[[], list[Warning]]) -> Callable[[], None]:
    _providers.append(provider)

    def remove() -> None:
        if provider in _providers:
            _providers.remove(provider)

    return remove


def active() -> list[Warning]:
    found: list[Warning] = []
    for provider in list(_providers):
        found.extend(provider())
    return sorted(found, key=lambda w: (w["level"] != "fullscreen", w["issued_at"]))


def any_fullscreen(warnings: list[Any] | None = None) -> bool:
    return any(w["level"] == "fullscreen" for w in (warnings if warnings is not None else active()))
