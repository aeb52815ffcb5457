"""Record when a person became inactive, so retention rules can count from that day."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models
from django.db.models import F


def backfill(apps: Any, schema_editor: Any) -> None:
    # People already inactive count from their last change: the best date we have.
    Person = apps.get_model("assessments", "Person")
    Person.objects.filter(active=False).update(inactive_since=F("updated_at"))


class Migration(migrations.Migration):
    dependencies = [("assessments", "0004_person_org_name_idx")]

    operations = [
        migrations.AddField(
            model_name="person",
            name="inactive_since",
            field=models.DateTimeField(
                blank=True,
                help_text="When the person was marked inactive; retention counts from here",
                null=True,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
