"""The translation catalogues are complete and keep every placeholder (a lost {ticket} would turn an error
into another error). Texts written in Indonesian have an English translation; the few written in English
in the code (errors and command-line output, contexts "error" and "cli") have an Indonesian one."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parents[2] / "src" / "siaga" / "locale"
CODE_CONTEXTS = ("error", "cli")


def entries(language: str, domain: str) -> list[object]:
    with (LOCALE / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
        return [m for m in read_po(handle) if m.id]


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)[^}]*\}", text)) | set(re.findall(r"%\((\w+)\)", text))


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_indonesian_text_has_its_english_translation(domain: str) -> None:
    missing, broken = [], []
    for m in entries("en", domain):
        if m.context in CODE_CONTEXTS:
            continue  # English already
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        if m.fuzzy or not all(strings):
            missing.append(ids[0])
        elif placeholders(ids[0]) != placeholders(strings[0]):
            broken.append(ids[0])
    assert missing == [] and broken == []


def test_every_english_code_text_has_its_indonesian_translation() -> None:
    found = [m for m in entries("id", "django") if m.context in CODE_CONTEXTS]
    assert len(found) > 150
    missing = [m.id for m in found if m.fuzzy or not m.string]
    # a translation uses the values it is given; it may drop only an English plural ending ({plural})
    broken = [m.id for m in found if m.string and not (placeholders(m.string) <= placeholders(m.id)
                                                       and placeholders(m.id) - placeholders(m.string) <= {"plural"})]
    assert missing == [] and broken == []


def test_the_english_of_code_texts_is_their_msgid_not_a_guess() -> None:
    """gettext's fuzzy guesses ("tag" -> "latitude") are cleared by `make messages` for those texts."""
    guessed = [m.id for domain in ("django", "djangojs") for m in entries("en", domain)
               if m.context in CODE_CONTEXTS and (m.string or m.fuzzy)]
    assert guessed == []
