"""Refuse, in the database itself, any UPDATE or DELETE of an audit event.

The audit trail is append-only: ORM ``update()``, raw SQL and the admin cannot get
around a trigger. The one way past is the house escape hatch for deliberate purges
(``kamfit.frameworks.services.unfrozen``: a row in ``kamfit_unfreeze`` on SQLite,
``SET LOCAL kamfit.unfreeze = 'on'`` on PostgreSQL), which ``kamfit restore`` and test
teardown use. Whoever can do that (or drop the trigger) owns the database: the hash
chain, checked by ``kamfit audit verify``, is what makes such a change visible.
"""

from __future__ import annotations

from django.db import migrations

MESSAGE = "the audit trail is append-only"
TABLE = "auditlog_auditevent"
SQLITE_UNLOCKED = "NOT EXISTS (SELECT 1 FROM kamfit_unfreeze)"
PG_UNLOCKED = "coalesce(current_setting('kamfit.unfreeze', true), '') <> 'on'"


def _sqlite_statements() -> list[str]:
    return [
        f"CREATE TRIGGER auditevent_append_only_{op.lower()} BEFORE {op} ON {TABLE} "
        f"WHEN {SQLITE_UNLOCKED} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        for op in ("UPDATE", "DELETE")
    ]


def _postgresql_statements() -> list[str]:
    return [
        f"""CREATE FUNCTION kamfit_audit_append_only() RETURNS trigger AS $$
        BEGIN
          IF {PG_UNLOCKED} THEN
            RAISE EXCEPTION '{MESSAGE}';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER auditevent_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION kamfit_audit_append_only()""",
    ]


def _drop_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS auditevent_append_only_{op}" for op in ("update", "delete")
        ]
    return [
        f"DROP TRIGGER IF EXISTS auditevent_append_only ON {TABLE}",
        "DROP FUNCTION IF EXISTS kamfit_audit_append_only()",
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
    dependencies = [
        ("auditlog", "0001_initial"),
        ("frameworks", "0002_published_versions_are_frozen"),  # the kamfit_unfreeze table
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
