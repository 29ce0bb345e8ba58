"""The repository carries everything it reads: nothing in it reads or points at a folder beside the clone.

A public clone has nothing beside it, so a file that reads the engineers' reference folder beside the clone
fails for every newcomer, and a comment or document that points there sends a reader nowhere.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# spelt in parts, so that this file does not find itself
SIBLING = "sha" + "red"
PATTERNS = [
    re.compile(r"\.\./" + SIBLING + r"\b"),  # the folder's relative path, in any text
    re.compile(r"[\"']" + SIBLING + r"[\"']\s*/"),  # a path built from its name
    re.compile(r"/\s*[\"']" + SIBLING + r"[\"']"),
    re.compile("steer" + "ing repo", re.IGNORECASE),  # a repository a reader of this one cannot see
]


BINARY = {".png", ".ogg", ".mo", ".ts", ".wav", ".pdf"}


def repository_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        names = [name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # an export without .git: every file under the root
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts
                 and ".git" not in p.parts and "var" not in p.parts]
    return [ROOT / name for name in names]


def test_no_file_reads_or_points_beside_the_repository() -> None:
    offenders = []
    for path in repository_files():
        if path == Path(__file__).resolve() or not path.exists() or path.suffix in BINARY:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            text = path.read_text(encoding="latin-1")
        for number, line in enumerate(text.splitlines(), 1):
            if any(pattern.search(line) for pattern in PATTERNS):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not offenders, "files that read or point outside the repository:\n" + "\n".join(offenders)


@pytest.mark.parametrize("folder", ["tests/data/cap", "tests/data/eido", "src/siaga/hazards/data/recorded",
                                    "src/siaga/core/data/geo", "src/siaga/formats/data"])
def test_every_bundled_data_folder_says_where_its_files_come_from(folder: str) -> None:
    note = (ROOT / folder / "SOURCE.txt").read_text()
    files = [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.name != "SOURCE.txt"]
    assert files, folder
    for path in files:
        # every file (or the folder it sits in) is named in the note, with a commit or a URL
        assert path.name in note or path.parent.name in note, f"{path} is not in {folder}/SOURCE.txt"
    assert re.search(r"[0-9a-f]{7,40}|https?://", note)
