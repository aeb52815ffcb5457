"""Refuse, in the database itself, any change to a published profile version.

Assessments point at published profile versions: their scope, levels and weights
must never change under them. Same mechanism and escape hatch as the frameworks'
triggers (``kamfit.frameworks.services.unfrozen``).
"""

from __future__ import annotations

from django.db import migrations

MESSAGE = "published profile version is immutable"
VERSION_TABLE = "profiles_profileversion"
CONTENT_TABLES = ["profiles_profileelement", "profiles_requirement"]
STATUS_OF = "(SELECT status FROM profiles_profileversion WHERE id = {row}.version_id)"
SQLITE_UNLOCKED = "NOT EXISTS (SELECT 1 FROM kamfit_unfreeze)"
PG_UNLOCKED = "coalesce(current_setting('kamfit.unfreeze', true), '') <> 'on'"


def _sqlite_statements() -> list[str]:
    sql = [
        f"CREATE TRIGGER profileversion_frozen_{op.lower()} BEFORE {op} ON {VERSION_TABLE} "
        f"WHEN OLD.status = 'published' AND {SQLITE_UNLOCKED} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        for op in ("UPDATE", "DELETE")
    ]
    for table in CONTENT_TABLES:
        for op, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
            sql.append(
                f"CREATE TRIGGER {table}_frozen_{op.lower()} BEFORE {op} ON {table} "
                f"WHEN {STATUS_OF.format(row=row)} = 'published' AND {SQLITE_UNLOCKED} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
    return sql


def _postgresql_statements() -> list[str]:
    sql = [
        f"""CREATE FUNCTION kamfit_profile_version_frozen() RETURNS trigger AS $$
        BEGIN
          IF OLD.status = 'published' AND {PG_UNLOCKED} THEN
            RAISE EXCEPTION '{MESSAGE}';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER profileversion_frozen BEFORE UPDATE OR DELETE ON {VERSION_TABLE}
        FOR EACH ROW EXECUTE FUNCTION kamfit_profile_version_frozen()""",
        f"""CREATE FUNCTION kamfit_profile_content_frozen() RETURNS trigger AS $$
        DECLARE r record;
        BEGIN
          IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF;
          IF {STATUS_OF.format(row="r")} = 'published' AND {PG_UNLOCKED} THEN
            RAISE EXCEPTION '{MESSAGE}';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    ]
    sql += [
        f"""CREATE TRIGGER {table}_frozen BEFORE INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION kamfit_profile_content_frozen()"""
        for table in CONTENT_TABLES
    ]
    return sql


def _drop_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        names = [f"profileversion_frozen_{op}" for op in ("update", "delete")] + [
            f"{t}_frozen_{op}" for t in CONTENT_TABLES for op in ("insert", "update", "delete")
        ]
        return [f"DROP TRIGGER IF EXISTS {n}" for n in names]
    return [f"DROP TRIGGER IF EXISTS {t}_frozen ON {t}" for t in CONTENT_TABLES] + [
        f"DROP TRIGGER IF EXISTS profileversion_frozen ON {VERSION_TABLE}",
        "DROP FUNCTION IF EXISTS kamfit_profile_version_frozen()",
        "DROP FUNCTION IF EXISTS kamfit_profile_content_frozen()",
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
        ("profiles", "0001_initial"),
        ("frameworks", "0002_published_versions_are_frozen"),  # the kamfit_unfreeze table
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
