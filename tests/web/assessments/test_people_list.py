"""The people list's rows, built in Python (kamfit.assessments.views._people_rows)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kamfit.assessments import services
from kamfit.assessments.models import Person
from kamfit.orgs.models import Role
from tests.conftest import Team

pytestmark = pytest.mark.django_db


def test_people_list_escapes_every_text_and_shows_each_column(team: Team) -> None:
    org = team.side.org
    services.upsert_people(
        org,
        None,
        [
            services.PersonInput(
                "x-1",
                "<b>Bold</b> & Co",
                kind="candidate",
                job_title="<i>KAM</i>",
                unit="North & South",
                manager="mgr-1",
                background="sales",
                accounts=("Acme", "Hooli"),
                active=False,
            )
        ],
    )
    person = Person.objects.get(organisation=org, reference="x-1")
    page = team.side.client(Role.HR).get(reverse("assessments:people", args=[org.slug]))
    text = page.content.decode()
    assert "<b>Bold</b>" not in text and "<i>KAM</i>" not in text
    link = reverse("assessments:person", args=[org.slug, person.pk])
    row = text[text.index(f'<a href="{link}">') - 40 :]
    row = row[: row.index("</tr>")]
    assert '<tr class="muted">' in row
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co</a> (inactive)" in row
    assert "<td>Internal candidate</td><td>&lt;i&gt;KAM&lt;/i&gt;</td>" in row
    assert "<td>North &amp; South</td>" in row
    assert f"<td>{person.manager.name}</td><td>Sales</td>" in row  # type: ignore[union-attr]
    assert row.endswith("<td>2</td>\n")


def test_people_list_says_so_when_nobody_matches(team: Team) -> None:
    url = reverse("assessments:people", args=[team.side.org.slug])
    text = team.side.client(Role.HR).get(url, {"q": "nobody-by-this-name"}).content.decode()
    assert "No people match." in text
