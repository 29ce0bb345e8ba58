"""Backups of the system of record, with the audit chain's head kept beside them.

``siaga backup`` writes two files into a folder (``SIAGA_BACKUP_DIR``, by default ``<var>/backups``):

* ``siaga-<UTC time>.dump``: PostgreSQL's own archive (``pg_dump --format=custom``), or for the embedded
  SQLite mode a consistent copy made with SQLite's online backup API;
* ``siaga-<UTC time>.json``: the manifest: what kind of database, the dump's SHA-256 and size, when, the
  latest migration of every app, and the audit chain's head (``<seal>:<hash>``) read *before* the dump
  began, so the chain in the dump passes through it.

``siaga restore FILE --yes`` checks the dump against its manifest (a changed or truncated file is refused
before anything is touched), restores it into the configured database (``pg_restore --clean
--single-transaction``: all or nothing), and then walks the audit chain with the manifest's head as the
head kept elsewhere (``siaga audit verify --expect``): a restore that lost or rewrote audit rows says so.

The password never appears on a command line (``pg_dump`` reads it from ``PGPASSWORD`` in its own
environment). Files written by the server itself (spoken WAVs, generated reports) are rebuilt from the
database and are not in the backup.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

MANIFEST_FORMAT = 1


class BackupError(Exception):
    """What went wrong, in words for the person running the command."""


@dataclass(frozen=True)
class Backup:
    dump: Path
    manifest: Path
    data: dict[str, Any]


def _engine() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    return "postgresql" if "postgresql" in engine else "sqlite"


def _pg_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({"PGHOST": str(db.get("HOST") or "localhost"), "PGPORT": str(db.get("PORT") or 5432),
                "PGUSER": str(db.get("USER") or ""), "PGDATABASE": str(db["NAME"]),
                "PGCONNECT_TIMEOUT": "10"})
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed: it comes with PostgreSQL's client "
                          f"(Debian: apt install postgresql-client)")
    return path


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    # the tools are found by shutil.which and every argument is ours (paths and fixed options)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{Path(command[0]).name} failed: " + ("; ".join(detail[-3:]) or f"exit {done.returncode}"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _migrations() -> dict[str, str]:
    from django.db.migrations.recorder import MigrationRecorder

    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connections["default"]).migration_qs.values_list("app", "name"):
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


def backup(directory: Path | None = None, *, now: datetime | None = None) -> Backup:
    from siaga import __version__
    from siaga.core.auditchain import last_seal_anchor, seal_pending

    folder = Path(directory or settings.BACKUP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    dump, manifest = folder / f"siaga-{stamp}.dump", folder / f"siaga-{stamp}.json"
    if dump.exists() or manifest.exists():
        raise BackupError(f"{dump} exists already: one backup a second at most")
    seal_pending("new")  # rows committed but not yet sealed get their seals first, so the head covers them
    head = last_seal_anchor()  # read before the dump begins: the dump's chain passes through it
    partial = Path(tempfile.mkstemp(prefix=".siaga-", suffix=".partial", dir=folder)[1])
    try:
        if _engine() == "postgresql":
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(partial)],
                 _pg_env())
        else:
            source = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]))
            target = sqlite3.connect(str(partial))
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        os.replace(partial, dump)
    finally:
        partial.unlink(missing_ok=True)
    data = {"format": MANIFEST_FORMAT, "database": _engine(), "file": dump.name, "sha256": _sha256(dump),
            "bytes": dump.stat().st_size, "created_at": datetime.now(UTC).isoformat(), "audit_head": head,
            "siaga_version": __version__, "migrations": _migrations()}
    written = manifest.with_suffix(".json.partial")
    written.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(written, manifest)
    return Backup(dump, manifest, data)


def read_manifest(path: Path) -> Backup:
    """``path`` is the dump or its manifest; the dump must be whole and unchanged."""
    manifest = path if path.suffix == ".json" else path.with_suffix(".json")
    if not manifest.exists():
        raise BackupError(f"{manifest} is missing: a backup is restored with its manifest beside it")
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        dump = manifest.with_name(str(data["file"]))
        expected, head = str(data["sha256"]), str(data["audit_head"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{manifest} is not a Siaga112 backup manifest ({exc})") from exc
    if data.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"{manifest}: manifest format {data.get('format')!r}; this version reads {MANIFEST_FORMAT}")
    if not dump.exists():
        raise BackupError(f"{dump} is missing")
    if _sha256(dump) != expected:
        raise BackupError(f"{dump} does not match its manifest (SHA-256): the file was changed or is incomplete; "
                          "nothing was restored")
    if head != "0:" and ":" not in head:
        raise BackupError(f"{manifest}: audit_head {head!r} is not <seal>:<hash>")
    return Backup(dump, manifest, data)


def restore(path: Path) -> Backup:
    """Replace the configured database's contents with the backup's. The caller has stopped every node."""
    found = read_manifest(path)
    if found.data["database"] != _engine():
        raise BackupError(f"the backup is of a {found.data['database']} database; SIAGA_DATABASE_URL is {_engine()}")
    connections.close_all()
    if _engine() == "postgresql":
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--exit-on-error", "--dbname", _pg_env()["PGDATABASE"], str(found.dump)],
             _pg_env())
    else:
        target = Path(str(settings.DATABASES["default"]["NAME"]))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        source, copy = sqlite3.connect(str(found.dump)), sqlite3.connect(str(partial))
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        for suffix in ("-wal", "-shm"):  # the old database's journal must not be applied to the restored one
            Path(str(target) + suffix).unlink(missing_ok=True)
        os.replace(partial, target)
    connections.close_all()
    return found
