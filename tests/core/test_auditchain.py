"""The audit log's hash chain: every committed row sealed after commit, and a database owner who rewrites,
deletes or truncates history (switching the append-only triggers off first) is found by `siaga audit verify`."""

import io
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.utils import timezone

from siaga.core import audit
from siaga.core.auditchain import RECENT_ROWS, seal_pending, verify
from siaga.core.models import AuditChainHead, AuditLog, AuditSeal
from siaga.core.roles import Principal

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Principal.system("test")


def write(n: int, *, prefix: str = "test") -> list[AuditLog]:
    rows = []
    for i in range(n):
        with transaction.atomic():
            rows.append(audit.record(SYSTEM, f"{prefix}.write", object_type="thing", object_id=str(i),
                                     before={"n": i, "why": "ü ✓"}, after={"n": i + 1, "f": 0.1}))
    return rows


@contextmanager
def as_database_owner() -> Iterator[Any]:
    """What someone with the database's owner account can do: switch off the append-only triggers (and, on
    SQLite, foreign keys) and run raw SQL. Everything is switched back on afterwards."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # no triggers, no foreign keys
        else:
            cursor.execute("DROP TRIGGER core_auditlog_no_update")
            cursor.execute("DROP TRIGGER core_auditseal_no_update")
            cursor.execute("PRAGMA foreign_keys = OFF")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.execute("CREATE TRIGGER core_auditlog_no_update BEFORE UPDATE ON core_auditlog BEGIN "
                               "SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE is not allowed'); END;")
                cursor.execute("CREATE TRIGGER core_auditseal_no_update BEFORE UPDATE ON core_auditseal BEGIN "
                               "SELECT RAISE(ABORT, 'the audit chain is append-only: UPDATE is not allowed'); END;")


def test_every_committed_row_is_sealed_in_a_chain() -> None:
    start = AuditSeal.objects.count()
    rows = write(5)
    seals = list(AuditSeal.objects.filter(audit__in=rows).order_by("id"))
    assert [s.audit_id for s in seals] == [r.pk for r in rows]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(seals))
    report = verify()
    head = AuditChainHead.objects.get()
    assert report.ok, report.problems
    assert report.seals == start + 5 == head.seals and report.head == head.last_hash == seals[-1].hash
    assert report.unsealed == 0


def test_a_rolled_back_write_leaves_neither_row_nor_seal() -> None:
    write(2)
    before = (AuditLog.objects.count(), AuditSeal.objects.count())
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(SYSTEM, "test.doomed", object_type="thing", object_id="x")
        raise RuntimeError("the action failed")
    assert (AuditLog.objects.count(), AuditSeal.objects.count()) == before
    assert verify().ok


def test_seals_cannot_be_changed_or_deleted_through_the_application_or_raw_sql() -> None:
    [row] = write(1)
    seal = AuditSeal.objects.get(audit=row)
    seal.hash = "0" * 64
    with pytest.raises(PermissionError):
        seal.save()
    with pytest.raises(PermissionError):
        AuditSeal.objects.filter(pk=seal.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditseal SET hash = %s WHERE id = %s", ["0" * 64, seal.pk])
    # a sealed row cannot be deleted by raw SQL either (PostgreSQL: trigger; SQLite: the seal's foreign key)
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditlog WHERE id = %s", [row.pk])
    assert AuditLog.objects.filter(pk=row.pk).exists() and verify().ok


def test_a_row_rewritten_by_the_database_owner_is_found() -> None:
    rows = write(4)
    with as_database_owner() as cursor:
        cursor.execute("UPDATE core_auditlog SET note = 'nothing happened' WHERE id = %s", [rows[2].pk])
    report = verify()
    assert not report.ok
    assert report.problems == [f"audit row {rows[2].pk} (test.write, {rows[2].at:%Y-%m-%d %H:%M:%S} UTC) was "
                               f"changed after it was sealed"]
    with pytest.raises(SystemExit) as exit_code:
        call_command("audit", "verify")
    assert exit_code.value.code == 1


def test_a_row_deleted_with_its_seal_breaks_the_chain_after_it() -> None:
    rows = write(4)
    victim = AuditSeal.objects.get(audit=rows[1])
    following = AuditSeal.objects.get(audit=rows[2])
    with as_database_owner() as cursor:
        cursor.execute("DELETE FROM core_auditseal WHERE id = %s", [victim.pk])
        cursor.execute("DELETE FROM core_auditlog WHERE id = %s", [rows[1].pk])
    report = verify()
    assert any(p.startswith(f"seal {following.pk} (audit row {rows[2].pk}) does not follow") for p in report.problems)


def test_a_row_deleted_under_its_seal_is_named() -> None:
    rows = write(3)
    with as_database_owner() as cursor:
        cursor.execute("DELETE FROM core_auditlog WHERE id = %s", [rows[1].pk])
    seal = AuditSeal.objects.get(audit_id=rows[1].pk)
    assert verify().problems == [f"audit row {rows[1].pk}, sealed by seal {seal.pk}, is gone: it was deleted"]


def test_history_cut_off_at_the_end_disagrees_with_the_head() -> None:
    rows = write(3)
    with as_database_owner() as cursor:
        cursor.execute("DELETE FROM core_auditseal WHERE audit_id = %s", [rows[-1].pk])
        cursor.execute("DELETE FROM core_auditlog WHERE id = %s", [rows[-1].pk])
    problems = verify().problems
    assert len(problems) == 1 and problems[0].startswith("the chain head says")


def test_a_row_left_unsealed_is_reported_and_only_sealed_by_a_person() -> None:
    write(1)
    old = AuditLog.objects.create(actor="test", action="test.orphan", object_type="thing", object_id="9",
                                  at=timezone.now() - timedelta(hours=2))  # as if the process died
    expected = f"audit row {old.pk} (test.orphan, stored time "
    report = verify()
    assert report.unsealed == 1 and len(report.problems) == 1 and report.problems[0].startswith(expected)
    assert "was never sealed" in report.problems[0]
    with pytest.raises(SystemExit):
        call_command("audit", "verify")  # verification never seals: still broken after it
    assert not AuditSeal.objects.filter(audit=old).exists()
    assert seal_pending("recent") == 0  # nor does the sealer's sweep: the row is too old for it
    call_command("audit", "seal")  # a person's decision, after reading the report
    assert AuditSeal.objects.filter(audit=old).exists() and verify().ok


def test_a_row_forged_below_the_head_is_reported_not_sealed() -> None:
    """A row slipped in by hand under an id the chain has passed, dated now or long ago, is never sealed by
    verify, by the sealer's sweep or by the start of `siaga serve`: verify reports it."""
    rows = write(3)
    with as_database_owner() as cursor:
        cursor.execute("DELETE FROM core_auditseal WHERE audit_id = %s", [rows[1].pk])
        cursor.execute("DELETE FROM core_auditlog WHERE id = %s", [rows[1].pk])
    AuditLog.objects.create(id=rows[1].pk, actor="admin", action="incident.close", object_type="thing",
                            object_id="1", at=timezone.now() - timedelta(days=3), note="forged")
    for _ in range(2):
        report = verify()
        assert not report.ok and any("was never sealed" in p for p in report.problems), report.problems
    sealed_before = AuditSeal.objects.count()
    assert seal_pending("new") + seal_pending("recent") == 0  # the sweep, and what the start of serve runs
    assert AuditSeal.objects.count() == sealed_before
    # dated now instead, so that a sweep would take it for a late committer: below the look-back, reported
    forged = AuditLog.objects.get(pk=rows[1].pk)
    with as_database_owner() as cursor:
        cursor.execute("UPDATE core_auditlog SET at = %s WHERE id = %s", [timezone.now(), forged.pk])
    AuditChainHead.objects.update(last_audit_id=forged.pk + RECENT_ROWS)
    assert any(f"audit row {forged.pk} " in p and "never sealed" in p for p in verify().problems)


def test_a_row_whose_time_cannot_be_read_is_named_not_a_traceback() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's timestamptz cannot hold a time that does not parse")
    rows = write(3)
    with as_database_owner() as cursor:
        cursor.execute("UPDATE core_auditlog SET at = 'not a time' WHERE id = %s", [rows[1].pk])
    report = verify()
    assert report.problems and any(
        p.startswith(f"audit row {rows[1].pk} (test.write, stored time 'not a time')") and "cannot be read" in p
        for p in report.problems), report.problems
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("audit", "verify", stdout=out)
    assert exit_code.value.code == 1 and "cannot be read" in out.getvalue()


def test_a_truncated_log_is_caught_against_the_head_kept_outside() -> None:
    write(3)
    out = io.StringIO()
    call_command("audit", "head", stdout=out)
    kept = out.getvalue().strip()
    number, _, digest = kept.partition(":")
    assert int(number) == AuditSeal.objects.order_by("-id").first().pk and len(digest) == 64
    write(2)
    assert verify(expect=kept).ok  # the chain grew past the kept head: fine
    assert verify(expect=digest).ok  # a bare hash is looked for anywhere in the chain
    # everything deleted together: log, seals and head, as if the database were new
    with as_database_owner() as cursor:
        cursor.execute("DELETE FROM core_auditseal")
        cursor.execute("DELETE FROM core_auditlog")
        cursor.execute("DELETE FROM core_auditchainhead")
    assert verify().ok  # without the kept head an empty chain is consistent...
    report = verify(expect=kept)
    assert not report.ok and "does not reach the head you kept" in report.problems[0]  # ...but not with it
    with pytest.raises(SystemExit) as exit_code:
        call_command("audit", "verify", "--expect", kept, stdout=io.StringIO())
    assert exit_code.value.code == 1
    with pytest.raises(SystemExit) as exit_code:
        call_command("audit", "verify", "--expect", "yesterday", stderr=io.StringIO())
    assert exit_code.value.code == 2


def test_a_tail_deleted_with_the_head_rewound_is_caught_against_the_head_kept_outside() -> None:
    rows = write(4)
    out = io.StringIO()
    call_command("audit", "head", stdout=out)
    kept = out.getvalue().strip()
    last, before_last = AuditSeal.objects.order_by("-id")[:2]
    with as_database_owner() as cursor:
        cursor.execute("DELETE FROM core_auditseal WHERE id = %s", [last.pk])
        cursor.execute("DELETE FROM core_auditlog WHERE id = %s", [rows[-1].pk])
        cursor.execute("UPDATE core_auditchainhead SET last_hash = %s, seals = seals - 1, last_audit_id = %s",
                       [before_last.hash, before_last.audit_id])
    assert verify().ok  # consistent in itself
    report = verify(expect=kept)
    assert not report.ok and f"ends at seal {before_last.pk}" in report.problems[0]
    # and a chain rewritten from a point on: the kept seal number is there with another hash
    with as_database_owner() as cursor:
        cursor.execute("UPDATE core_auditseal SET hash = %s WHERE id = %s", ["0" * 64, before_last.pk])
    assert any("is not the head you kept" in p
               for p in verify(expect=f"{before_last.pk}:{before_last.hash}").problems)


def test_a_late_committer_below_the_last_sealed_id_is_found_by_the_sweep() -> None:
    """On PostgreSQL a transaction can commit after a later id was sealed: sealing what is new (an id range
    above the last sealed id) skips it; the sealer's minutely look back (``recent``) seals it."""
    write(2)
    late = AuditLog.objects.create(actor="test", action="test.late", object_type="thing", object_id="7")
    write(1)  # sealed together with `late`: both are above the last sealed id
    assert AuditSeal.objects.filter(audit=late).exists()
    late = AuditLog.objects.create(actor="test", action="test.late", object_type="thing", object_id="8")
    AuditChainHead.objects.update(last_audit_id=late.pk + 1)  # as if a later id had been sealed first
    assert seal_pending("new") == 0
    report = verify()
    assert report.ok and report.unsealed == 1  # young: not a problem yet
    assert seal_pending("recent") == 1 and verify().ok and verify().unsealed == 0
    assert seal_pending("all") == 0
    with pytest.raises(ValueError, match="unknown sealing scope"):
        seal_pending("everything")


def test_concurrent_writers_make_one_chain() -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            write(15, prefix=name)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    report = verify()
    assert report.ok, report.problems
    assert report.unsealed == 0 and report.seals == AuditLog.objects.count()
    assert AuditLog.objects.filter(action__endswith=".write").count() == 60


def test_the_daily_report_prints_where_the_chain_stood_at_the_end_of_the_day() -> None:
    from siaga.reports import compute, period

    rows = write(3)
    today = timezone.localdate()
    report = compute.build(period.daily(today))
    last = AuditSeal.objects.get(audit=rows[-1])
    assert report["audit_chain"] == {"seal": last.pk, "hash": last.hash, "through": rows[-1].at.isoformat()}
    yesterday = compute.build(period.daily(today - timedelta(days=1)))["audit_chain"]
    assert yesterday["seal"] != last.pk


def test_the_chain_over_the_api_for_monitoring_admins_only(client: Any, actors: Any) -> None:
    rows = write(2)
    ok = client.get("/api/v1/audit/chain", **actors["admin"].headers()).json()
    assert ok["ok"] is True and ok["problems"] == [] and ok["head"] == AuditSeal.objects.get(audit=rows[-1]).hash
    for role in ("supervisor", "operator", "wall"):
        assert client.get("/api/v1/audit/chain", **actors[role].headers()).status_code == 403
    assert client.get("/api/v1/audit/chain").status_code == 401
    with as_database_owner() as cursor:
        cursor.execute("UPDATE core_auditlog SET actor = 'someone else' WHERE id = %s", [rows[0].pk])
    broken = client.get("/api/v1/audit/chain", **actors["admin"].headers()).json()
    assert broken["ok"] is False and f"audit row {rows[0].pk}" in broken["problems"][0]


def test_the_cti_lanes_bulk_audit_rows_are_sealed_too(pbx: Any) -> None:
    from siaga.calls.actions import IngestItem, do_ingest_cti_events
    from siaga.formats import cti

    now = timezone.now()
    bodies = [{"event_id": f"c1:{kind}", "type": f"call.{kind}", "call_id": "c1", "caller": "081234567890",
               "occurred_at": (now + timedelta(seconds=n)).isoformat()} for n, kind in enumerate(("offered", "ended"))]
    do_ingest_cti_events([IngestItem(pbx.integration, cti.validate(body), body) for body in bodies])
    rows = AuditLog.objects.filter(action__startswith="cti.")
    assert rows.count() == 2 and AuditSeal.objects.filter(audit__in=rows).count() == 2
    assert verify().ok


def test_in_serve_a_sealer_thread_seals_after_the_commit() -> None:
    """(On SQLite, writes inside a transaction are sealed inside it; see the next test.)"""
    from siaga.core.auditchain import Sealer

    sealer = Sealer(interval=60)
    sealer.start()
    try:
        assert Sealer.running is sealer
        # autocommit (on SQLite a transaction seals inside itself, as it holds the only write lock anyway)
        row = audit.record(SYSTEM, "test.autocommit", object_type="thing", object_id="1")
        deadline = time.monotonic() + 10
        # the seal is visible once the sealer's transaction commits, a moment before the thread counts it
        while not (AuditSeal.objects.filter(audit=row).exists() and sealer.sealed) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert AuditSeal.objects.filter(audit=row).exists()  # woken by the commit, long before its minute
        assert sealer.sealed >= 1  # by the thread, not by the committing request
    finally:
        sealer.stop()
        sealer.join(10)
    assert Sealer.running is None and not sealer.is_alive()
    [later] = write(1)  # no sealer any more: the commit seals at once
    assert AuditSeal.objects.filter(audit=later).exists() and verify().ok


def test_on_sqlite_a_transaction_seals_its_rows_before_it_commits() -> None:
    with transaction.atomic():
        row = audit.record(SYSTEM, "test.inside", object_type="thing", object_id="1")
        sealed_inside = AuditSeal.objects.filter(audit=row).exists()
    assert sealed_inside is (connection.vendor == "sqlite")
    assert AuditSeal.objects.filter(audit=row).exists() and verify().ok
