"""Layered settings: bad deployments refuse to start with a sentence naming the problem."""

import os
import subprocess
from pathlib import Path

import pytest

from tests import clock

SIAGA = clock.siaga()


def run(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    base.update({"SIAGA_VAR_DIR": str(tmp_path), **env})
    return subprocess.run([*SIAGA, *(args or ("check",))], env=base, capture_output=True, text=True, timeout=60)


def test_production_without_secret_refuses(tmp_path: Path) -> None:
    result = run({"SIAGA_ENV": "production"}, tmp_path)
    assert result.returncode == 2
    assert "without a secret key" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_on_public_host_refuses(tmp_path: Path) -> None:
    result = run({"SIAGA_DEBUG": "1", "SIAGA_ALLOWED_HOSTS": "112.cilegon.go.id"}, tmp_path)
    assert result.returncode == 2
    assert "DEBUG" in result.stderr and "112.cilegon.go.id" in result.stderr


def test_bad_value_is_named(tmp_path: Path) -> None:
    result = run({"SIAGA_BLOCK_WINDOW_DAYS": "ninety"}, tmp_path)
    assert result.returncode == 2
    assert "SIAGA_BLOCK_WINDOW_DAYS" in result.stderr


def test_bad_block_stage_is_named(tmp_path: Path) -> None:
    result = run({"SIAGA_BLOCK_STAGES": "warn,forever-ish"}, tmp_path)
    assert result.returncode != 0
    assert "forever-ish" in result.stderr


@pytest.mark.parametrize("value", ["5", "1e12", "nan", "inf"])
def test_an_outbox_lease_that_would_break_the_outbox_is_refused(tmp_path: Path, value: str) -> None:
    """Found by the outside attack: 1e12 was taken, then every claim overflowed and every lane stopped."""
    result = run({"SIAGA_OUTBOX_LEASE_SECONDS": value}, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "SIAGA_OUTBOX_LEASE_SECONDS" in result.stderr and "Traceback" not in result.stderr


def test_production_with_secret_starts(tmp_path: Path) -> None:
    result = run({"SIAGA_ENV": "production", "SIAGA_SECRET_KEY": "x" * 60,
                  "SIAGA_ALLOWED_HOSTS": "112.cilegon.go.id",
                  "SIAGA_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}, tmp_path)
    assert result.returncode == 0, result.stderr


def test_development_key_is_generated_outside_the_repo(tmp_path: Path) -> None:
    result = run({}, tmp_path)
    assert result.returncode == 0, result.stderr
    key = tmp_path / "secret_key"
    assert key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("variable", ["SIAGA_SECRET_KEY", "SIAGA_DATABASE_URL", "SIAGA_BLOCK_STAGES"])
def test_every_setting_is_documented(variable: str) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    assert variable in docs


def test_all_read_variables_are_documented() -> None:
    import re

    root = Path(__file__).resolve().parents[2]
    source = (root / "src" / "siaga" / "config" / "settings.py").read_text()
    names = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', source))
    docs = (root / "docs" / "operations.md").read_text()
    missing = sorted(n for n in names if f"SIAGA_{n}" not in docs)
    assert names and not missing, missing


def test_a_database_that_is_not_set_up_is_one_sentence_not_a_traceback(tmp_path: Path) -> None:
    """`siaga cap from-bmkg` (any command that reads tables) on a fresh, unmigrated database."""
    scenarios = Path(__file__).resolve().parents[2] / "src/siaga/hazards/data/scenarios"
    capture = scenarios / "inatews_drill_selat_sunda_PD1.json"
    result = run({"SIAGA_DATABASE_URL": f"sqlite:///{tmp_path}/empty.sqlite3"}, tmp_path,
                 "cap", "from-bmkg", str(capture))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "is not set up" in result.stderr
    assert "siaga migrate" in result.stderr and result.stderr.count("\n") == 1


def test_an_unreachable_database_is_one_sentence(tmp_path: Path) -> None:
    result = run({"SIAGA_DATABASE_URL": f"sqlite:///{tmp_path}/no/such/dir/siaga.sqlite3"}, tmp_path,
                 "shifts", "check", "--from", "2026-11-01", "--to", "2026-11-02")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "database error" in result.stderr and "SIAGA_DATABASE_URL" in result.stderr
