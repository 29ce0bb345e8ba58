"""Advanced Mobile Location (ETSI TS 103 625) and Android ELS messages.

Two transports carry the handset's position during an emergency call:

* **SMS**: ``A"ML=1;lt=+51.53321;lg=-0.12601;rd=14;top=20220131171748;lc=68;pm=W;si=...;ei=...;
  mcc=234;mnc=15;ml=126``. ``rd`` is the radius in metres (``N`` when there is no fix), ``top`` the fix
  time in UTC (``yyyyMMddHHmmss``), ``lc`` the confidence in percent, ``pm`` the positioning method
  (``G`` GNSS, ``W`` Wi-Fi, ``C`` cell, ``N`` none) and ``ml`` the length of the whole message.
  The SMS does not carry the caller's number: the SMS gateway gives the originating address.
* **HTTPS**: a form-encoded POST body, ``v=1&device_number=...&location_latitude=...&
  location_longitude=...&location_time=...&location_accuracy=...&location_source=gps&
  location_certainty=...&hmac=...``; times are Unix milliseconds.

The HTTPS ``hmac`` field authenticates the body. ETSI leaves the exact construction to the national
agreement; Siaga112 computes HMAC-SHA256 (or SHA-1, told apart by the digest length) over the raw body
bytes up to, not including, ``&hmac=``, with the key shared with the provider, hex-encoded.
"""

from __future__ import annotations

import hashlib
import hmac as hmac_lib
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from siaga.formats.errors import FormatError

SMS_METHODS = {"G": "gnss", "W": "wifi", "C": "cell", "N": "none", "H": "hybrid"}
HTTPS_SOURCES = {"gps": "gnss", "gnss": "gnss", "wifi": "wifi", "cell": "cell", "fused": "hybrid",
                 "hybrid": "hybrid", "unknown": "unknown"}
# ml (the message length, always last) is required: it is how a message cut short is recognised.
SMS_REQUIRED = ("A\"ML", "lt", "lg", "rd", "top", "lc", "pm", "ml")
MAX_LENGTH = 4096


class AmlError(FormatError):
    """An AML message that cannot be used, with the field that is wrong."""


@dataclass(slots=True)
class AmlFix:
    """One location report from a handset."""

    transport: str  # "sms" | "https"
    version: str
    has_fix: bool
    lat: float | None
    lon: float | None
    radius_m: float | None
    time_utc: datetime | None
    method: str  # gnss | wifi | cell | hybrid | none | unknown
    confidence_pct: float | None = None
    device_number: str | None = None
    imei: str | None = None
    imsi: str | None = None
    mcc: str | None = None
    mnc: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["time_utc"] = self.time_utc.isoformat().replace("+00:00", "Z") if self.time_utc else None
        return data


def _float(value: str, name: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise AmlError(f"{name}={value!r} is not a number", name) from None
    if math.isnan(number) or math.isinf(number) or not low <= number <= high:
        raise AmlError(f"{name}={value!r} is outside {low:g}..{high:g}", name)
    return number


def _sms_time(value: str) -> datetime:
    if len(value) != 14 or not value.isdigit():
        raise AmlError(f"top={value!r} is not a UTC time as yyyyMMddHHmmss", "top")
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise AmlError(f"top={value!r} is not a real date and time", "top") from None


def parse_sms(text: str) -> AmlFix:
    """Parse the SMS form. Raises :class:`AmlError` for anything malformed or cut short."""
    if not isinstance(text, str):
        raise AmlError("the AML SMS must be text")
    message = text.strip()
    if len(message) > MAX_LENGTH:
        raise AmlError(f"the message is {len(message)} characters; AML SMS are far shorter")
    if not message.startswith('A"ML='):
        raise AmlError('an AML SMS starts with A"ML=<version>', 'A"ML')
    pairs: dict[str, str] = {}
    for index, part in enumerate(message.split(";")):
        if part == "" and index == message.count(";"):
            continue  # a trailing ";"
        if "=" not in part:
            raise AmlError(f"element {index + 1} ({part[:20]!r}) is not key=value; the message may be cut short")
        key, value = part.split("=", 1)
        if key in pairs:
            raise AmlError(f"{key} appears twice", key)
        pairs[key] = value
    missing = [key for key in SMS_REQUIRED if key not in pairs]
    if missing:
        raise AmlError(
            f"missing {', '.join(missing)}: the message is incomplete (cut short?)", missing[0]
        )
    try:
        declared = int(pairs["ml"])
    except ValueError:
        raise AmlError(f"ml={pairs['ml']!r} is not a length", "ml") from None
    # Handsets disagree by one on whether ml counts itself exactly; more than that is truncation or
    # concatenation.
    if abs(declared - len(message)) > 1:
        raise AmlError(
            f"ml={declared} but the message has {len(message)} characters: it was cut short or joined", "ml"
        )
    version = pairs['A"ML']
    if not version.isdigit():
        raise AmlError(f'A"ML={version!r} is not a version number', 'A"ML')
    pm = pairs["pm"].strip().upper()
    if len(pm) != 1 or not pm.isalpha():
        raise AmlError(f"pm={pairs['pm']!r} is not a one-letter positioning method (G, W, C, N)", "pm")
    method = SMS_METHODS.get(pm, "unknown")
    time_utc = _sms_time(pairs["top"])
    no_fix = pm == "N" or pairs["rd"].strip().upper() == "N"
    lat = lon = radius = None
    if not no_fix:
        lat = _float(pairs["lt"], "lt", -90, 90)
        lon = _float(pairs["lg"], "lg", -180, 180)
        radius = _float(pairs["rd"], "rd", 0, 1_000_000)
    try:
        confidence = float(pairs["lc"])
    except ValueError:
        raise AmlError(f"lc={pairs['lc']!r} is not a percentage", "lc") from None
    if not 0 <= confidence <= 100:
        raise AmlError(f"lc={pairs['lc']!r} is outside 0..100", "lc")
    known = set(SMS_REQUIRED) | {"si", "ei", "mcc", "mnc", "ml"}
    return AmlFix(
        transport="sms",
        version=version,
        has_fix=not no_fix,
        lat=lat,
        lon=lon,
        radius_m=radius,
        time_utc=time_utc,
        method="none" if no_fix else method,
        confidence_pct=confidence,
        imei=pairs.get("ei") or None,
        imsi=pairs.get("si") or None,
        mcc=pairs.get("mcc") or None,
        mnc=pairs.get("mnc") or None,
        extra={k: v for k, v in pairs.items() if k not in known},
    )


def _https_time(value: str, name: str) -> datetime:
    text = value.strip()
    if text.isdigit():
        millis = int(text)
        if not 946684800000 <= millis <= 4102444800000:  # 2000-01-01 .. 2100-01-01
            raise AmlError(f"{name}={value!r} is not a plausible Unix time in milliseconds", name)
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AmlError(f"{name}={value!r} is neither Unix milliseconds nor ISO 8601", name) from None
    if parsed.tzinfo is None:
        raise AmlError(f"{name}={value!r} has no time zone", name)
    return parsed.astimezone(UTC)


def _form_fields(body: str | bytes) -> dict[str, str]:
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise AmlError("the body is not UTF-8 text") from None
    if len(body) > MAX_LENGTH * 2:
        raise AmlError(f"the body is {len(body)} characters; AML HTTPS bodies are far shorter")
    try:
        pairs = parse_qsl(body.strip(), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise AmlError("the body is not form-encoded key=value pairs joined by &") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise AmlError(f"{key} appears twice", key)
        fields[key] = value
    return fields


def parse_https(body: str | bytes) -> AmlFix:
    """Parse the HTTPS (form-encoded) form. The HMAC is checked separately, see :func:`verify_https_hmac`."""
    fields = _form_fields(body)
    if "v" not in fields:
        raise AmlError("missing v (the AML version)", "v")
    has_lat, has_lon = bool(fields.get("location_latitude")), bool(fields.get("location_longitude"))
    if has_lat != has_lon:
        raise AmlError(
            "location_latitude and location_longitude come together; one is missing (cut short?)",
            "location_longitude" if has_lat else "location_latitude",
        )
    lat = lon = radius = None
    if has_lat:
        lat = _float(fields["location_latitude"], "location_latitude", -90, 90)
        lon = _float(fields["location_longitude"], "location_longitude", -180, 180)
        if fields.get("location_accuracy"):
            radius = _float(fields["location_accuracy"], "location_accuracy", 0, 1_000_000)
    time_utc = None
    if fields.get("location_time"):
        time_utc = _https_time(fields["location_time"], "location_time")
    elif fields.get("time"):
        time_utc = _https_time(fields["time"], "time")
    source = fields.get("location_source", "unknown").strip().lower() or "unknown"
    method = HTTPS_SOURCES.get(source, "unknown") if has_lat else "none"
    confidence = None
    certainty = fields.get("location_certainty") or fields.get("location_confidence")
    if certainty:
        value = _float(certainty, "location_certainty", 0, 100)
        confidence = value * 100 if value <= 1 else value  # a fraction (0.68) or a percentage (68)
    known = {"v", "location_latitude", "location_longitude", "location_accuracy", "location_time", "time",
             "location_source", "location_certainty", "location_confidence", "device_number", "device_imei",
             "device_imsi", "cell_network_mcc", "cell_network_mnc", "hmac"}
    return AmlFix(
        transport="https",
        version=fields["v"],
        has_fix=has_lat,
        lat=lat,
        lon=lon,
        radius_m=radius,
        time_utc=time_utc,
        method=method,
        confidence_pct=confidence,
        device_number=fields.get("device_number") or None,
        imei=fields.get("device_imei") or None,
        imsi=fields.get("device_imsi") or None,
        mcc=fields.get("cell_network_mcc") or None,
        mnc=fields.get("cell_network_mnc") or None,
        extra={k: v for k, v in fields.items() if k not in known},
    )


def https_signed_part(body: bytes) -> tuple[bytes, str | None]:
    """Split a body into the signed bytes and the hex digest of its trailing ``hmac`` field."""
    marker = body.rfind(b"&hmac=")
    if marker < 0:
        if body.startswith(b"hmac="):
            return b"", body[5:].decode("ascii", "replace").strip()
        return body, None
    return body[:marker], body[marker + 6 :].decode("ascii", "replace").strip()


def sign_https(body_without_hmac: bytes, key: bytes) -> bytes:
    """Append ``&hmac=<hex>`` to a body (used by the demo and tests to act as a provider)."""
    digest = hmac_lib.new(key, body_without_hmac, hashlib.sha256).hexdigest()
    return body_without_hmac + b"&hmac=" + digest.encode()


def verify_https_hmac(body: bytes, key: bytes) -> bool:
    """True when the body's ``hmac`` field is a valid HMAC-SHA256 (or SHA-1) of the rest with ``key``."""
    signed, digest = https_signed_part(body)
    if not digest:
        return False
    algorithm = {64: hashlib.sha256, 40: hashlib.sha1}.get(len(digest))
    if algorithm is None:
        return False
    expected = hmac_lib.new(key, signed, algorithm).hexdigest()
    return hmac_lib.compare_digest(expected, digest.lower())


def parse(text: str) -> AmlFix:
    """Parse either form, told apart by the SMS header."""
    stripped = text.strip()
    if stripped.startswith('A"ML'):
        return parse_sms(stripped)
    if "=" in stripped and ("v=" in stripped or "location_" in stripped):
        return parse_https(stripped)
    raise AmlError('not an AML message: expected the SMS form (A"ML=1;...) or the HTTPS form (v=1&...)')
