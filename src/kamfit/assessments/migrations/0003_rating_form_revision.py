"""Count the saves of each rating form, for optimistic locking (ETag / If-Match).

On SQLite, adding a column with a default rebuilds the table, which the triggers
that freeze submitted forms do not survive (and the ratings' triggers, naming the
table, block the rename): they are dropped first and created again after.
"""

from importlib import import_module

from django.db import migrations, models

frozen = import_module("kamfit.assessments.migrations.0002_submitted_forms_are_frozen")


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0002_submitted_forms_are_frozen"),
    ]

    operations = [
        migrations.RunPython(frozen.drop_triggers, frozen.create_triggers),
        migrations.AddField(
            model_name="ratingform",
            name="revision",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Saves of this version so far: with the number, the form's ETag",
            ),
        ),
        migrations.RunPython(frozen.create_triggers, frozen.drop_triggers),
    ]
