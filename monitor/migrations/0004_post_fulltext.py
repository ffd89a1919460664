"""Full-text search over post text, on whichever database runs Vigie.

- PostgreSQL: three GIN expression indexes, ``to_tsvector(<config>, text)`` for
  a French, an English and a "simple" configuration. ``simple`` does no
  stemming and no stop words, so exact names and rare words (Bambara, Fulfulde,
  place names) match as written. Where the ``unaccent`` extension can be
  created (it ships with PostgreSQL's contrib and is trusted since PostgreSQL
  13), the French and simple ones are copies that also fold accents
  (``vigie_french``, ``vigie_simple``): "electricite" finds "électricité", as
  it does on SQLite; otherwise the built-in ``french`` and ``simple`` are used.
  ``monitor.search`` queries the very same expressions, so the planner uses
  these indexes.
- SQLite (the embedded mode): an external-content FTS5 table over
  ``monitor_post`` (the text is not stored twice) kept in sync by triggers,
  then filled from the rows already there. Beware: when a later migration
  makes Django rebuild ``monitor_post`` on SQLite (most ALTERs do), the
  triggers go with the old table; such a migration must run ``SQLITE_CREATE``
  again (the statements are idempotent and end with an FTS5 'rebuild').
"""
from django.db import DatabaseError, migrations, transaction

PG_PLAIN = ("french", "english", "simple")
PG_UNACCENT = ("vigie_french", "english", "vigie_simple")
PG_CREATE_CONFIGS = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'vigie_french') THEN
    CREATE TEXT SEARCH CONFIGURATION vigie_french (COPY = french);
    ALTER TEXT SEARCH CONFIGURATION vigie_french
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'vigie_simple') THEN
    CREATE TEXT SEARCH CONFIGURATION vigie_simple (COPY = simple);
    ALTER TEXT SEARCH CONFIGURATION vigie_simple
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;
  END IF;
END $$;
"""

SQLITE_CREATE = [
    # porter stems English, unicode61 folds case and (with remove_diacritics 2) accents.
    """CREATE VIRTUAL TABLE IF NOT EXISTS monitor_post_fts USING fts5(
        text, content='monitor_post', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER IF NOT EXISTS monitor_post_fts_insert AFTER INSERT ON monitor_post BEGIN
        INSERT INTO monitor_post_fts(rowid, text) VALUES (new.id, new.text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS monitor_post_fts_delete AFTER DELETE ON monitor_post BEGIN
        INSERT INTO monitor_post_fts(monitor_post_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS monitor_post_fts_update AFTER UPDATE OF text ON monitor_post BEGIN
        INSERT INTO monitor_post_fts(monitor_post_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO monitor_post_fts(rowid, text) VALUES (new.id, new.text);
    END""",
    "INSERT INTO monitor_post_fts(monitor_post_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS monitor_post_fts_insert",
    "DROP TRIGGER IF EXISTS monitor_post_fts_delete",
    "DROP TRIGGER IF EXISTS monitor_post_fts_update",
    "DROP TABLE IF EXISTS monitor_post_fts",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        configs = PG_PLAIN
        try:
            # A savepoint: without the extension the migration goes on with the plain configurations.
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent", params=None)
                schema_editor.execute(PG_CREATE_CONFIGS, params=None)
            configs = PG_UNACCENT
        except DatabaseError:
            pass
        for config in configs:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS monitor_post_fts_{config} ON monitor_post "
                f"USING GIN (to_tsvector('{config}'::regconfig, text))",
                params=None,
            )
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for config in sorted(set(PG_PLAIN + PG_UNACCENT)):
            schema_editor.execute(f"DROP INDEX IF EXISTS monitor_post_fts_{config}", params=None)
        # The unaccent extension stays: something else may use it.
        for config in ("vigie_french", "vigie_simple"):
            schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {config}", params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    # CREATE VIRTUAL TABLE and the triggers are DDL SQLite runs fine in a transaction.
    dependencies = [("monitor", "0003_review_queue")]
    operations = [migrations.RunPython(forwards, backwards)]
