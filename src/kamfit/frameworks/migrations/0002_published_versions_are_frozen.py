"""Refuse, in the database itself, any change to a published framework version.

ORM ``update()``, raw SQL and the admin cannot get around a trigger. SQLite and
PostgreSQL each get their own dialect. The only way past is a deliberate purge
inside one transaction (``kamfit.frameworks.services.unfrozen``): a row in
``kamfit_unfreeze`` on SQLite, ``SET LOCAL kamfit.unfreeze = 'on'`` on PostgreSQL.
"""

from __future__ import annotations

from django.db import migrations

MESSAGE = "published framework version is immutable"
CONTENT_TABLES = [
    "frameworks_role",
    "frameworks_roleelement",
    "frameworks_responsibility",
    "frameworks_competency",
    "frameworks_citation",
]
LINK_TABLE = "frameworks_citation_competencies"
STATUS_OF = "(SELECT status FROM frameworks_frameworkversion WHERE id = {row}.version_id)"
SQLITE_UNLOCKED = "NOT EXISTS (SELECT 1 FROM kamfit_unfreeze)"
PG_UNLOCKED = "coalesce(current_setting('kamfit.unfreeze', true), '') <> 'on'"
LINK_STATUS_OF = (
    "(SELECT v.status FROM frameworks_frameworkversion v JOIN frameworks_citation c "
    "ON c.version_id = v.id WHERE c.id = {row}.citation_id)"
)


def _sqlite_statements() -> list[str]:
    sql = ["CREATE TABLE kamfit_unfreeze (reason TEXT NOT NULL)"]
    sql += [
        f"CREATE TRIGGER frameworkversion_frozen_{op.lower()} BEFORE {op} "
        f"ON frameworks_frameworkversion WHEN OLD.status = 'published' AND {SQLITE_UNLOCKED} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        for op in ("UPDATE", "DELETE")
    ]
    for table, status_of in [(t, STATUS_OF) for t in CONTENT_TABLES] + [
        (LINK_TABLE, LINK_STATUS_OF)
    ]:
        for op, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
            sql.append(
                f"CREATE TRIGGER {table}_frozen_{op.lower()} BEFORE {op} ON {table} "
                f"WHEN {status_of.format(row=row)} = 'published' AND {SQLITE_UNLOCKED} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
    return sql


def _postgresql_statements() -> list[str]:
    sql = [
        f"""CREATE FUNCTION kamfit_version_frozen() RETURNS trigger AS $$
        BEGIN
          IF OLD.status = 'published' AND {PG_UNLOCKED} THEN
            RAISE EXCEPTION '{MESSAGE}';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER frameworkversion_frozen BEFORE UPDATE OR DELETE
        ON frameworks_frameworkversion FOR EACH ROW EXECUTE FUNCTION kamfit_version_frozen()""",
    ]
    for table, status_of, name in [(t, STATUS_OF, "content") for t in CONTENT_TABLES] + [
        (LINK_TABLE, LINK_STATUS_OF, "link")
    ]:
        if (name == "content" and table == CONTENT_TABLES[0]) or name == "link":
            sql.append(
                f"""CREATE FUNCTION kamfit_{name}_frozen() RETURNS trigger AS $$
                DECLARE r record;
                BEGIN
                  IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF;
                  IF {status_of.format(row="r")} = 'published' AND {PG_UNLOCKED} THEN
                    RAISE EXCEPTION '{MESSAGE}';
                  END IF;
                  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                  RETURN NEW;
                END $$ LANGUAGE plpgsql"""
            )
        sql.append(
            f"""CREATE TRIGGER {table}_frozen BEFORE INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION kamfit_{name}_frozen()"""
        )
    return sql


def _drop_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        names = [f"frameworkversion_frozen_{op}" for op in ("update", "delete")] + [
            f"{t}_frozen_{op}"
            for t in [*CONTENT_TABLES, LINK_TABLE]
            for op in ("insert", "update", "delete")
        ]
        return [f"DROP TRIGGER IF EXISTS {n}" for n in names] + ["DROP TABLE kamfit_unfreeze"]
    return [f"DROP TRIGGER IF EXISTS {t}_frozen ON {t}" for t in [*CONTENT_TABLES, LINK_TABLE]] + [
        "DROP TRIGGER IF EXISTS frameworkversion_frozen ON frameworks_frameworkversion",
        "DROP FUNCTION IF EXISTS kamfit_version_frozen()",
        "DROP FUNCTION IF EXISTS kamfit_content_frozen()",
        "DROP FUNCTION IF EXISTS kamfit_link_frozen()",
    ]


def create_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": _sqlite_statements, "postgresql": _postgresql_statements}[vendor]()
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    for statement in _drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("frameworks", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
