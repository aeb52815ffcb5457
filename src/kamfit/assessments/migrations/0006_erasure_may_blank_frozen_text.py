"""Let erasure blank the free text of submitted rating forms, and nothing else.

A submitted form stays frozen (0002), with one exception: an UPDATE that changes
nothing but setting a rating's ``evidence``, or a form's amendment ``reason``, to ''
passes. That is what anonymising a person needs (their scores remain as numbers),
and it cannot be used to rewrite a rating: any other column, or any other new text,
is still refused. Same trigger and function names as 0002, so its ``drop_triggers``
removes these too (and later table rebuilds can keep using it).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.db import migrations

frozen = import_module("kamfit.assessments.migrations.0002_submitted_forms_are_frozen")

MESSAGE = frozen.MESSAGE
FORM_TABLE = frozen.FORM_TABLE
RATING_TABLE = frozen.RATING_TABLE
STATUS_OF = frozen.STATUS_OF
SQLITE_UNLOCKED = frozen.SQLITE_UNLOCKED
PG_UNLOCKED = frozen.PG_UNLOCKED

# Every column as of this migration; a later one that adds a column must recreate these.
FORM_COLUMNS = (
    "id",
    "rater_id",
    "number",
    "status",
    "revision",
    "created_at",
    "created_by_id",
    "submitted_at",
    "submitted_by_id",
)
RATING_COLUMNS = ("id", "form_id", "competency_id", "level")


def _sqlite_only_blanks(text: str, others: tuple[str, ...]) -> str:
    same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in others)
    return f"(NEW.{text} = '' AND {same})"


def _sqlite_statements() -> list[str]:
    blank_reason = _sqlite_only_blanks("reason", FORM_COLUMNS)
    blank_evidence = _sqlite_only_blanks("evidence", RATING_COLUMNS)
    frozen_rating = " OR ".join(f"{STATUS_OF.format(row=r)} = 'submitted'" for r in ("OLD", "NEW"))
    return [
        f"CREATE TRIGGER ratingform_frozen_update BEFORE UPDATE ON {FORM_TABLE} "
        f"WHEN OLD.status = 'submitted' AND {SQLITE_UNLOCKED} AND NOT {blank_reason} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
        f"CREATE TRIGGER ratingform_frozen_delete BEFORE DELETE ON {FORM_TABLE} "
        f"WHEN OLD.status = 'submitted' AND {SQLITE_UNLOCKED} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
        f"CREATE TRIGGER rating_frozen_insert BEFORE INSERT ON {RATING_TABLE} "
        f"WHEN {STATUS_OF.format(row='NEW')} = 'submitted' AND {SQLITE_UNLOCKED} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
        f"CREATE TRIGGER rating_frozen_update BEFORE UPDATE ON {RATING_TABLE} "
        f"WHEN ({frozen_rating}) AND {SQLITE_UNLOCKED} AND NOT {blank_evidence} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
        f"CREATE TRIGGER rating_frozen_delete BEFORE DELETE ON {RATING_TABLE} "
        f"WHEN {STATUS_OF.format(row='OLD')} = 'submitted' AND {SQLITE_UNLOCKED} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    ]


def _pg_only_blanks(text: str) -> str:
    # Every other column, present and future, must be unchanged.
    return f"(NEW.{text} = '' AND to_jsonb(NEW) - '{text}' = to_jsonb(OLD) - '{text}')"


def _postgresql_statements() -> list[str]:
    return [
        f"""CREATE FUNCTION kamfit_rating_form_frozen() RETURNS trigger AS $$
        BEGIN
          IF OLD.status = 'submitted' AND {PG_UNLOCKED}
             AND NOT (TG_OP = 'UPDATE' AND {_pg_only_blanks("reason")}) THEN
            RAISE EXCEPTION '{MESSAGE}';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER ratingform_frozen BEFORE UPDATE OR DELETE ON {FORM_TABLE}
        FOR EACH ROW EXECUTE FUNCTION kamfit_rating_form_frozen()""",
        f"""CREATE FUNCTION kamfit_rating_frozen() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND {_pg_only_blanks("evidence")} THEN
            RETURN NEW;
          END IF;
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


def create_triggers(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": _sqlite_statements, "postgresql": _postgresql_statements}[vendor]()
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    frozen.drop_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("assessments", "0005_person_inactive_since")]

    operations = [
        migrations.RunPython(frozen.drop_triggers, frozen.create_triggers),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
