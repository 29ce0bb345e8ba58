"""Dissemination channels: where an issued alert goes, one delivery row per (alert, channel, target).

A channel says whether it is configured (:meth:`Channel.enabled`), who its targets are for an alert
(:meth:`Channel.targets`, read inside the issuing transaction) and how to send one delivery
(:meth:`Channel.send`, called by :mod:`siaga.alerts.dispatch` outside any transaction; it raises
:class:`ChannelError` to have the delivery retried with backoff, and returns a small JSON result).

The built-in channels are web (public page, Atom, SSE), mqtt (sirens), email (agency lists), webhook
(signed, to the subscriptions of the webhooks app) and tts (a WAV of the Indonesian text). The DVB-T2
EWS carousel registers itself from the broadcast app with :func:`register`; nothing else changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

if TYPE_CHECKING:
    from siaga.alerts.models import Alert, Delivery


class ChannelError(Exception):
    """A delivery that failed and should be tried again later."""


class Channel(Protocol):
    name: str

    def enabled(self) -> bool: ...

    def targets(self, alert: Alert) -> list[str]: ...

    def send(self, delivery: Delivery, alert: Alert) -> dict[str, Any]: ...


_registry: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    _registry[channel.name] = channel


def unregister(name: str) -> None:
    _registry.pop(name, None)


def get(name: str) -> Channel | None:
    return _registry.get(name)


def registered() -> list[Channel]:
    return [c for _, c in sorted(_registry.items())]


def active() -> list[Channel]:
    """The registered channels that are switched on (SIAGA_ALERT_CHANNELS) and configured."""
    wanted = set(settings.ALERT_CHANNELS)
    return [c for name, c in sorted(_registry.items()) if name in wanted and c.enabled()]


_BUILT_IN = ("web", "mqtt", "email", "webhook", "tts")


def register_built_in() -> None:
    from siaga.alerts.channels import email, mqtt, tts, web, webhook

    for module in (web, mqtt, email, webhook, tts):
        register(module.CHANNEL)
