"""Siaga112's own deployment checks, run by ``siaga check --deploy`` beside Django's.

Django's own ``--deploy`` checks cover the secret key's strength, DEBUG, ALLOWED_HOSTS and the cookie
flags. These add what a city's installation needs: PostgreSQL, the reverse proxy's address, feeds that
bring the warnings, the channels that carry them (the SMTP server, the MQTT broker and the SMS gateway are
actually connected to), Redis, the EWS carousel's destination, and the tools the backups need. An error means
something a person relies on would not work; a warning, a choice to confirm.
"""

from __future__ import annotations

import shutil
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils.translation import pgettext

from siaga.core.errors import LazyText


def _say(text: str, **values: Any) -> str:
    return str(LazyText(text, **values)) if values else text


@checks.register(checks.Tags.security, deploy=True)
def deployment(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    found: list[checks.CheckMessage] = []
    production = settings.ENVIRONMENT == "production"
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        found.append(checks.Warning(
            pgettext("cli", "the database is SQLite (the embedded mode): one server, no second node"),
            hint=pgettext("cli", "set SIAGA_DATABASE_URL=postgres://... for a city's 24x7 service"),
            id="siaga.W001"))
    if production and not settings.TRUSTED_PROXIES:
        found.append(checks.Warning(
            pgettext("cli", "SIAGA_TRUSTED_PROXIES is empty: behind a reverse proxy every login and audit row "
                              "would carry the proxy's address, and HTTPS is not known to the application"),
            hint=pgettext("cli", "set it to the address of the TLS proxy (docs/deploy.md)"), id="siaga.W002"))
    found += _feeds()
    found += _channels()
    if settings.REDIS_URL:
        from siaga.runtime.health import check_redis

        if (state := check_redis()) != "ok":
            found.append(checks.Error(_say(pgettext("cli", "Redis at SIAGA_REDIS_URL: {state}"), state=state),
                                      hint=pgettext("cli", "live pages of the other nodes would miss this "
                                                             "node's events"), id="siaga.E007"))
    if "postgresql" in engine and (shutil.which("pg_dump") is None or shutil.which("pg_restore") is None):
        found.append(checks.Warning(
            pgettext("cli", "pg_dump / pg_restore are not installed: `siaga backup` cannot run"),
            hint=pgettext("cli", "install PostgreSQL's client (Debian: postgresql-client)"), id="siaga.W009"))
    return found


def _feeds() -> list[checks.CheckMessage]:
    found: list[checks.CheckMessage] = []
    if not settings.HAZARD_POLLING or not settings.BMKG_FEEDS:
        found.append(checks.Warning(
            pgettext("cli", "no BMKG feed is polled by this node (SIAGA_HAZARD_POLLING off or SIAGA_BMKG_FEEDS "
                              "empty): no earthquake warning is issued unless another node polls"),
            hint=pgettext("cli", "let at least one node poll (the pollers hold a lease: one polls at a time)"),
            id="siaga.W003"))
    if not settings.INATEWS_FEEDS:
        found.append(checks.Warning(
            pgettext("cli", "SIAGA_INATEWS_FEEDS is empty: tsunami warnings and their ends (PD-1 to PD-4) come "
                              "only as autogempa's tsunami potential"),
            hint=pgettext("cli", "set the InaTEWS address given with the BMKG agreement"), id="siaga.W004"))
    return found


def _channels() -> list[checks.CheckMessage]:
    from siaga.alerts.channels import ChannelError

    found: list[checks.CheckMessage] = []
    channels = set(settings.ALERT_CHANNELS)
    if "email" in channels:
        if not settings.SMTP_URL:
            found.append(checks.Warning(pgettext("cli", "the e-mail channel is on but SIAGA_SMTP_URL is empty: "
                                                          "the agencies get no warning by e-mail"), id="siaga.W005"))
        else:
            from siaga.alerts.channels.email import _connection

            try:
                connection = _connection()
                connection.open()
                connection.close()
            except (ChannelError, OSError) as exc:
                found.append(checks.Error(
                    _say(pgettext("cli", "the SMTP server at SIAGA_SMTP_URL cannot be reached: {error}"), error=exc),
                    id="siaga.E005"))
    if "mqtt" in channels:
        if not settings.MQTT_URL:
            found.append(checks.Warning(pgettext("cli", "the MQTT channel is on but SIAGA_MQTT_URL is empty: "
                                                          "sirens and displays get nothing"), id="siaga.W006"))
        else:
            from siaga.alerts.channels.mqtt import _client

            try:
                client = _client()
                client.disconnect()
                client.loop_stop()
            except (ChannelError, OSError) as exc:
                found.append(checks.Error(
                    _say(pgettext("cli", "the MQTT broker at SIAGA_MQTT_URL cannot be reached: {error}"), error=exc),
                    id="siaga.E006"))
    if "sms" in channels:
        found += _sms()
    found += _signing()
    if "ews" in channels and not settings.EWS_UDP:
        found.append(checks.Warning(
            pgettext("cli", "SIAGA_EWS_UDP is empty on this node: it sends no EWS to the television multiplexer"),
            hint=pgettext("cli", "set it on the nodes that may run the carousel (one sends at a time)"),
            id="siaga.W008"))
    return found


def _sms() -> list[checks.CheckMessage]:
    """The SMS gateway answers, and takes our credentials (Kannel: 403 for wrong ones, else a complaint
    about the missing receiver, since the check sends none)."""
    import httpx

    if not settings.SMS_SENDSMS_URL:
        return [checks.Warning(pgettext("cli", "the SMS channel is on but SIAGA_SMS_SENDSMS_URL is empty: no "
                                               "warning or dispatch goes by SMS"), id="siaga.W010")]
    try:
        response = httpx.get(settings.SMS_SENDSMS_URL, params={"username": settings.SMS_USERNAME,
                                                               "password": settings.SMS_PASSWORD}, timeout=5)
    except httpx.HTTPError as exc:
        return [checks.Error(_say(pgettext("cli", "the SMS gateway at SIAGA_SMS_SENDSMS_URL cannot be reached: "
                                                  "{error}"), error=exc), id="siaga.E010")]
    if response.status_code in (401, 403):
        return [checks.Error(_say(pgettext("cli", "the SMS gateway refuses SIAGA_SMS_USERNAME / "
                                                  "SIAGA_SMS_PASSWORD: {answer}"), answer=response.text.strip()[:100]),
                             id="siaga.E011")]
    return []


def _signing() -> list[checks.CheckMessage]:
    """The CAP signing key and certificate: set (in production), readable, one pair, not expired."""
    from datetime import UTC, datetime

    from cryptography import x509

    from siaga.alerts import signing
    from siaga.formats import capsign

    if signing.paths() is None:
        return [checks.Error(pgettext("cli", "SIAGA_CAP_SIGNING_KEY_FILE and SIAGA_CAP_SIGNING_CERT_FILE are not "
                                             "set: the CAP messages would go out unsigned"),
                             hint=pgettext("cli", "siaga cap keygen --out /etc/siaga/cap, or a pair issued by an "
                                                  "authority the partners trust"), id="siaga.E012")]
    try:
        key, cert = signing.pair()
        capsign.sign(b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>', key, cert)
    except (OSError, capsign.SigningError) as exc:
        return [checks.Error(_say(pgettext("cli", "the CAP signing key or certificate cannot sign: {error}"),
                                  error=exc), id="siaga.E013")]
    certificate = x509.load_pem_x509_certificate(cert)
    found: list[checks.CheckMessage] = []
    if certificate.not_valid_after_utc <= datetime.now(UTC):
        found.append(checks.Error(_say(pgettext("cli", "the CAP signing certificate expired on {date}"),
                                       date=certificate.not_valid_after_utc.date().isoformat()), id="siaga.E014"))
    elif certificate.issuer == certificate.subject:
        found.append(checks.Warning(
            pgettext("cli", "the CAP signing certificate is self-signed: receivers can check a message against it "
                            "only if they were given it beforehand"),
            hint=pgettext("cli", "give partners the certificate, or sign with one issued by an authority they "
                                 "trust (docs/operations.md)"), id="siaga.W011"))
    return found

