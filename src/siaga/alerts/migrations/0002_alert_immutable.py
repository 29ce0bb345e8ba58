"""An issued alert is immutable in the database itself, as the audit log is (see core 0002).

PostgreSQL refuses UPDATE and DELETE of an alert row; SQLite refuses UPDATE (a DELETE trigger would stop
the test runner from emptying the table). Changes are new Update / Cancel rows.
"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION siaga_alert_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'an issued alert is immutable: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER alerts_alert_immutable
    BEFORE UPDATE OR DELETE ON alerts_alert
    FOR EACH ROW EXECUTE FUNCTION siaga_alert_immutable();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS alerts_alert_immutable ON alerts_alert;
DROP FUNCTION IF EXISTS siaga_alert_immutable();
"""
SQLITE_UP = """
CREATE TRIGGER alerts_alert_no_update BEFORE UPDATE ON alerts_alert
BEGIN
    SELECT RAISE(ABORT, 'an issued alert is immutable: UPDATE is not allowed');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS alerts_alert_no_update;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
