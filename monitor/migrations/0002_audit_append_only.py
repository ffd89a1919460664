"""On PostgreSQL, make the audit log append-only in the database itself."""
from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION monitor_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'monitor_auditevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS monitor_auditevent_no_change ON monitor_auditevent;
CREATE TRIGGER monitor_auditevent_no_change
    BEFORE UPDATE OR DELETE ON monitor_auditevent
    FOR EACH ROW EXECUTE FUNCTION monitor_auditevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS monitor_auditevent_no_change ON monitor_auditevent;
DROP FUNCTION IF EXISTS monitor_auditevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("monitor", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
