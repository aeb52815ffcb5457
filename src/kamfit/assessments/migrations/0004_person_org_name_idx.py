"""Index people by organisation and name: the people list reads a page in that order.

Without it, each page of the list sorts every person of the organisation first
(about 100 ms at 10,000 people on SQLite).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0003_rating_form_revision"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["organisation", "name", "id"], name="person_org_name_idx"),
        ),
    ]
