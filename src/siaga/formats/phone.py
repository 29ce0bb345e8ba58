"""Caller numbers: normalise what a PBX or SMS gateway sends to E.164.

A 112 call is never refused because of its number: a number that cannot be normalised is kept raw and
reported as such, and a withheld number is ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

WITHHELD = frozenset(
    {"", "anonymous", "unknown", "<unknown>", "restricted", "private", "unavailable", "withheld", "none"}
)
_DIGITS = re.compile(r"[^\d+]")


@dataclass(frozen=True, slots=True)
class CallerNumber:
    """A caller number as received (``raw``) and, when it is a possible number, in E.164 (``e164``)."""

    raw: str
    e164: str | None
    withheld: bool

    @property
    def valid(self) -> bool:
        return self.e164 is not None


def normalise(raw: str | None, region: str = "ID") -> CallerNumber:
    """Normalise ``raw`` to E.164 with ``region`` as the default country.

    Indonesian PBXs send national numbers with a leading 0 (``0812...``, ``0254...``) and international
    numbers with or without ``+`` (``62812...``); both come out as ``+62...``.
    """
    text = (raw or "").strip()
    if text.lower() in WITHHELD:
        return CallerNumber(raw=text, e164=None, withheld=True)
    if text.lower().startswith(("sip:", "tel:")):
        text = text.split(":", 1)[1].split("@", 1)[0].split(";", 1)[0]
    cleaned = _DIGITS.sub("", text)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    country = phonenumbers.country_code_for_region(region) if region else 0
    if country and not cleaned.startswith("+") and cleaned.startswith(str(country)) and len(cleaned) >= 10:
        cleaned = "+" + cleaned
    try:
        parsed = phonenumbers.parse(cleaned, region if not cleaned.startswith("+") else None)
    except phonenumbers.NumberParseException:
        return CallerNumber(raw=text, e164=None, withheld=False)
    if not phonenumbers.is_possible_number(parsed):
        return CallerNumber(raw=text, e164=None, withheld=False)
    return CallerNumber(
        raw=text,
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        withheld=False,
    )


def normalise_or_raw(raw: str | None, region: str = "ID") -> str | None:
    """E.164 when possible, otherwise the raw text, ``None`` for a withheld number (for look-ups)."""
    number = normalise(raw, region)
    if number.withheld:
        return None
    return number.e164 or number.raw
