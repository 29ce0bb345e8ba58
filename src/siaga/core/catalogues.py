"""``python -m siaga.core.catalogues``: after ``makemessages``, keep the English catalogue honest for the
texts written in English in the code (contexts "error" and "cli"): their English is the msgid, so any
msgstr gettext guessed for them (fuzzy matches such as "tag" -> "latitude") is removed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CODE_CONTEXTS = ('msgctxt "error"', 'msgctxt "cli"')


def clean(path: Path) -> int:
    blocks = path.read_text(encoding="utf-8").split("\n\n")
    changed = 0
    for index, block in enumerate(blocks):
        lines = block.split("\n")
        if not any(line in CODE_CONTEXTS for line in lines):
            continue
        kept: list[str] = []
        in_msgstr = False
        for line in lines:
            if line.startswith("#|"):
                continue  # the guessed source of a fuzzy match
            if line.startswith("#,"):
                flags = [f.strip() for f in line[2:].split(",") if f.strip() and f.strip() != "fuzzy"]
                if flags:
                    kept.append("#, " + ", ".join(flags))
                continue
            if line.startswith("msgstr"):
                kept.append(re.sub(r'^(msgstr(\[\d+\])?) .*$', r'\1 ""', line))
                in_msgstr = True
                continue
            if in_msgstr and line.startswith('"'):
                continue
            in_msgstr = False
            kept.append(line)
        new = "\n".join(kept)
        if new != block:
            blocks[index] = new
            changed += 1
    if changed:
        path.write_text("\n\n".join(blocks), encoding="utf-8")
    return changed


def main(argv: list[str]) -> int:
    base = Path(__file__).resolve().parents[1] / "locale" / "en" / "LC_MESSAGES"
    for path in sorted(base.glob("*.po")):
        sys.stdout.write(f"{path.name}: {clean(path)} code text(s) cleared\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
