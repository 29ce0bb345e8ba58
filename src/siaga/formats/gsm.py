"""SMS text as a phone receives it: the GSM 03.38 alphabet, UCS-2, and how many parts a text takes.

A text goes out in the GSM 7-bit alphabet when every character is in it (after :func:`plain` has replaced
typographic signs and letters with accents a phone's alphabet lacks), else in UCS-2, which halves what a part
holds. One part holds 160 septets (a character of the extension table, such as ``€`` or ``[``, takes two) or
70 UCS-2 units; a concatenated message holds 153 septets or 67 units per part, the rest being the header
that joins them, and a two-septet character or a surrogate pair is never cut between parts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# 3GPP TS 23.038, 6.2.1: the default alphabet (0x1B is the escape to the extension table, not a character)
BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
         "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
EXTENSION = "\f^{}\\[~]|€"  # each sent as ESC + one septet
_BASIC = frozenset(BASIC) - {"\x1b"}
_EXTENSION = frozenset(EXTENSION)

SINGLE_SEPTETS, PART_SEPTETS = 160, 153
SINGLE_UNITS, PART_UNITS = 70, 67

# what a phone's alphabet lacks, as it would be written by hand (Indonesian text is almost all ASCII)
_PLAIN = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
          "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u2022": "-",
          "\u00b0": " derajat", "\u00d7": "x", "\t": " ", "`": "'", "\u00b4": "'"}


class TooLong(ValueError):
    """A text that needs more parts than allowed."""

    def __init__(self, parts: int, limit: int, encoding: str) -> None:
        self.parts, self.limit, self.encoding = parts, limit, encoding
        super().__init__(f"the SMS needs {parts} parts ({encoding}); at most {limit} are allowed")


@dataclass(frozen=True)
class Fitted:
    text: str  # what is sent (after plain())
    encoding: str  # "gsm7" or "ucs2"
    units: int  # septets (gsm7) or UTF-16 units (ucs2)
    parts: int

    @property
    def coding(self) -> int:
        """Kannel's ``coding``: 0 for the 7-bit alphabet, 2 for UCS-2."""
        return 0 if self.encoding == "gsm7" else 2


def plain(text: str) -> str:
    """``text`` with what the GSM alphabet lacks but can say: typographic signs as typed on a keypad, letters
    with accents it does not have as their base letter. Characters it cannot say are kept (they make the
    text UCS-2)."""
    out = []
    for char in text:
        if char in _BASIC or char in _EXTENSION:
            out.append(char)
        elif char in _PLAIN:
            out.append(_PLAIN[char])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(base if base and all(c in _BASIC for c in base) else char)
    return "".join(out)


def is_gsm(text: str) -> bool:
    return all(char in _BASIC or char in _EXTENSION for char in text)


def _parts(sizes: list[int], single: int, per_part: int) -> tuple[int, int]:
    """(units, parts) for characters of these sizes: one part holds ``single`` units, each part of a
    concatenated message ``per_part``, and no character is cut between two parts."""
    units = sum(sizes)
    if units <= single:
        return units, 1 if sizes else 0
    parts, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return units, parts


def fit(text: str) -> Fitted:
    """How ``text`` goes out: the GSM alphabet when it can, UCS-2 only when a character demands it."""
    sent = plain(text)
    if is_gsm(sent):
        units, parts = _parts([2 if c in _EXTENSION else 1 for c in sent], SINGLE_SEPTETS, PART_SEPTETS)
        return Fitted(sent, "gsm7", units, parts)
    units, parts = _parts([2 if ord(c) > 0xFFFF else 1 for c in sent], SINGLE_UNITS, PART_UNITS)
    return Fitted(sent, "ucs2", units, parts)


def require(text: str, max_parts: int) -> Fitted:
    """:func:`fit`, refusing (:class:`TooLong`, with the count) a text of more than ``max_parts`` parts."""
    fitted = fit(text)
    if fitted.parts > max_parts:
        raise TooLong(fitted.parts, max_parts, fitted.encoding)
    return fitted


def shorten(text: str, max_parts: int, tail: str = "") -> str:
    """``text`` cut at a word (ending in ``...``) so that it and ``tail`` fit ``max_parts`` parts; unchanged
    when it already fits. ``tail`` (a link, a signature) is always kept whole."""
    if fit(text + tail).parts <= max_parts:
        return text + tail
    words = text.split(" ")
    low, high = 0, len(words)
    while low < high:  # the most words that still fit
        middle = (low + high + 1) // 2
        if fit(" ".join(words[:middle]).rstrip(" ,.;:") + "..." + tail).parts <= max_parts:
            low = middle
        else:
            high = middle - 1
    cut = " ".join(words[:low]).rstrip(" ,.;:")
    if not cut:  # one very long word: cut characters
        chars = text
        while chars and fit(chars + "..." + tail).parts > max_parts:
            chars = chars[:-1]
        cut = chars
    return cut + "..." + tail
