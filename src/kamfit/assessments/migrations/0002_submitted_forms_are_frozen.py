"""Refuse, in the database itself, any change to a submitted rating form.

A submitted form is evidence about a person: amending it creates form n + 1 with
who, when and why, and the old one stays as it was. Same mechanism and escape hatch
(for erasure and test teardown) as the frameworks' triggers
(``kamfit.frameworks.services.unfrozen``).
"""

from __future__ import annotations

from django.db import migrations

MESSAGE = "submitted rating form is immutable"
FORM_TABLE = "assessments_ratingform"
RATING_TABLE = "assessments_rating"
STATUS_OF = "(SELECT status FROM assessments_ratingform WHERE id = {row}.form_id)"
SQLITE_UNLOCKED = "NOT EXISTS (SELECT 1 FROM kamfit_unfreeze)"
PG_UNLOCKED = "coalesce(current_setting('kamfit.unfreeze', true), '') <> 'on'"


def _sqlite_statements() -> list[str]:
    sql = [
        f"CREATE TRIGGER ratingform_frozen_{op.lower()} BEFORE {op} ON {FORM_TABLE} "
        f"WHEN OLD.status = 'submitted' AND {SQLITE_UNLOCKED} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        for op in ("UPDATE", "DELETE")
    ]
    # An UPDATE is refused if the rating belongs to a submitted form before or after it:
    # moving a draft's rating onto a submitted form would change that form too.
    for op, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        frozen = " OR ".join(f"{STATUS_OF.format(row=row)} = 'submitted'" for row in rows)
        sql.append(
            f"CREATE TRIGGER rating_frozen_{op.lower()} BEFORE {op} ON {RATING_TABLE} "
            f"WHEN ({frozen}) AND {SQLITE_UNLOCKED} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
    return sql


def _postgresql_statements() -> list[str]:
    return [
        f"""CREATE FUNCTION kamfit_rating_form_frozen() RETURNS trigger AS $$
        BEGIN
          IF OLD.status = 'submitted' AND {PG_UNLOCKED} THEN
            RAISE EXCEPTION '{MESSAGE}';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER ratingform_frozen BEFORE UPDATE OR DELETE ON {FORM_TABLE}
        FOR EACH ROW EXECUTE FUNCTION kamfit_rating_form_frozen()""",
        f"""CREATE FUNCTION kamfit_rating_frozen() RETURNS trigger AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') AND {STATUS_OF.format(row="OLD")} = 'submitted'
             AND {PG_UNLOCKED} THEN
            RAISE EXCEPTION '{MESSAGE}';
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') AND {STATUS_OF.format(row="NEW")} = 'submitted'
             AND {PG_UNLOCKED} THEN
            RAISE EXCEPTION '{MESSAGE}';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER rating_frozen BEFORE INSERT OR UPDATE OR DELETE ON {RATING_TABLE}
        FOR EACH ROW EXECUTE FUNCTION kamfit_rating_frozen()""",
    ]


def _drop_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        names = [f"ratingform_frozen_{op}" for op in ("update", "delete")] + [
            f"rating_frozen_{op}" for op in ("insert", "update", "delete")
        ]
        return [f"DROP TRIGGER IF EXISTS {n}" for n in names]
    return [
        f"DROP TRIGGER IF EXISTS rating_frozen ON {RATING_TABLE}",
        f"DROP TRIGGER IF EXISTS ratingform_frozen ON {FORM_TABLE}",
        "DROP FUNCTION IF EXISTS kamfit_rating_frozen()",
        "DROP FUNCTION IF EXISTS kamfit_rating_form_frozen()",
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
        ("assessments", "0001_initial"),
        ("frameworks", "0002_published_versions_are_frozen"),  # the kamfit_unfreeze table
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
