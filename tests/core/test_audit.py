"""The audit log is append-only, through the application and in the database itself."""

import pytest
from django.db import DatabaseError, connection, transaction

from siaga.core import audit
from siaga.core.models import AuditLog
from siaga.core.roles import Principal


@pytest.fixture
def row(db: None) -> AuditLog:
    return audit.record(Principal.system("test"), "test.write", object_type="thing", object_id="1",
                        before={"a": 1}, after={"a": 2})


def test_model_refuses_change_and_delete(row: AuditLog) -> None:
    row.note = "rewritten"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()


def test_queryset_refuses_bulk_change_and_delete(row: AuditLog) -> None:
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=row.pk).update(note="x")
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=row.pk).delete()
    assert AuditLog.objects.get(pk=row.pk).note == ""


def test_database_refuses_raw_update(row: AuditLog) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditlog SET note = 'x' WHERE id = %s", [row.pk])
    assert AuditLog.objects.get(pk=row.pk).note == ""


def test_database_refuses_raw_delete_on_postgresql(row: AuditLog) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("on SQLite a DELETE trigger would stop the test runner from emptying tables")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditlog WHERE id = %s", [row.pk])
    assert AuditLog.objects.filter(pk=row.pk).exists()


def test_record_keeps_who_what_before_after(row: AuditLog) -> None:
    stored = AuditLog.objects.get(pk=row.pk)
    assert (stored.actor, stored.action, stored.before, stored.after) == ("test", "test.write", {"a": 1}, {"a": 2})
    assert stored.at.tzinfo is not None
