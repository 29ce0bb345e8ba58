"""The restore drill: back up a deployment that has an audit trail, lose the database, restore it on an empty
one with the real commands, and end with `siaga audit verify` intact against the head kept in the backup.
On SQLite here; on PostgreSQL (pg_dump / pg_restore) in the PostgreSQL pass."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import clock

pytestmark = pytest.mark.slow


def siaga(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*clock.siaga(), *args], env=env, capture_output=True, text=True, timeout=300)


def _fresh_database(env: dict[str, str], name: str) -> None:
    """An empty database: a new PostgreSQL database in the PG pass, no file at all on SQLite."""
    test_db = os.environ.get("SIAGA_TEST_DATABASE_URL")
    if test_db:
        import psycopg

        with psycopg.connect(test_db.rpartition("/")[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        env["SIAGA_DATABASE_URL"] = test_db.rpartition("/")[0] + "/" + name
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(env["SIAGA_VAR_DIR"], "siaga.sqlite3" + suffix).unlink(missing_ok=True)


def integrations(env: dict[str, str]) -> set[str]:
    done = siaga(env, "shell", "-c", "from siaga.core.models import Integration; "
                                     "print(*Integration.objects.values_list('name', flat=True))")
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


@pytest.fixture
def deployment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    env.update({"SIAGA_VAR_DIR": str(tmp_path / "var"), "SIAGA_ENV": "development", "SIAGA_DEBUG": "0"})
    _fresh_database(env, "siaga_restore_drill")
    for command in (["migrate", "--noinput"], ["load-reference"],
                    ["integration", "create", "pbx-before", "--kind", "pbx"]):
        done = siaga(env, *command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    return env


def test_the_restore_drill_ends_with_the_audit_chain_intact(deployment: dict[str, str], tmp_path: Path) -> None:
    env = deployment
    made = siaga(env, "backup", "--to", str(tmp_path / "backups"), "--json")
    assert made.returncode == 0, made.stderr
    manifest = json.loads(made.stdout)
    dump = Path(manifest["path"])
    assert dump.stat().st_size == manifest["bytes"] > 0 and Path(manifest["manifest"]).exists()
    assert manifest["database"] == ("postgresql" if os.environ.get("SIAGA_TEST_DATABASE_URL") else "sqlite")
    head = manifest["audit_head"]
    assert head != "0:" and int(head.split(":")[0]) > 0  # creating the integration was audited and sealed
    assert manifest["migrations"]["core"].startswith("00")

    # after the backup: more work, then the database is lost altogether
    assert siaga(env, "integration", "create", "pbx-after", "--kind", "pbx").returncode == 0
    assert {"pbx-before", "pbx-after"} <= integrations(env)
    _fresh_database(env, "siaga_restore_drill_new")

    refused = siaga(env, "restore", str(dump))
    assert refused.returncode != 0 and "--yes" in refused.stderr  # a restore is never done by accident
    restored = siaga(env, "restore", str(dump), "--yes")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "intact" in restored.stdout

    verified = siaga(env, "audit", "verify", "--expect", head, "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["ok"] is True and report["problems"] == [] and report["anchor"] == head
    names = integrations(env)
    assert "pbx-before" in names and "pbx-after" not in names
    # the restored deployment works on: a new audited change seals onto the restored chain
    assert siaga(env, "integration", "create", "pbx-restored", "--kind", "pbx").returncode == 0
    again = json.loads(siaga(env, "audit", "verify", "--expect", head, "--json").stdout)
    assert again["ok"] is True and again["seals"] > report["seals"]


def test_a_changed_backup_is_refused_before_anything_is_touched(deployment: dict[str, str], tmp_path: Path) -> None:
    env = deployment
    manifest = json.loads(siaga(env, "backup", "--to", str(tmp_path / "backups"), "--json").stdout)
    dump = Path(manifest["path"])
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    assert siaga(env, "integration", "create", "pbx-kept", "--kind", "pbx").returncode == 0
    refused = siaga(env, "restore", str(dump), "--yes")
    assert refused.returncode != 0
    assert "does not match its manifest" in refused.stderr and "nothing was restored" in refused.stderr
    assert "pbx-kept" in integrations(env)  # what was stored is untouched

    Path(manifest["manifest"]).unlink()
    missing = siaga(env, "restore", str(dump), "--yes")
    assert missing.returncode != 0 and "manifest" in missing.stderr


def test_backup_names_what_is_missing(tmp_path: Path, settings: Any, monkeypatch: Any) -> None:
    from siaga.runtime import backup

    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    monkeypatch.setattr(backup, "_engine", lambda: "postgresql")
    with pytest.raises(backup.BackupError, match="pg_dump is not installed"):
        backup._tool("pg_dump")
    with pytest.raises(backup.BackupError, match="is missing: a backup is restored with its manifest"):
        backup.read_manifest(tmp_path / "siaga-x.dump")
    (tmp_path / "siaga-x.json").write_text("{not json")
    with pytest.raises(backup.BackupError, match="is not a Siaga112 backup manifest"):
        backup.read_manifest(tmp_path / "siaga-x.dump")
