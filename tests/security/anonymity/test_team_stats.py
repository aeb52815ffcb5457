"""Team statistics of a cycle rest on k people or more: page footer, mean fit, percentile."""

from __future__ import annotations

import re

from kamfit.orgs.models import Role
from tests.conftest import Team

API = "/api/v1"


def rate(team: Team, references: list[str]) -> None:
    manager = team.side.users[Role.MANAGER]  # already asked: their line manager
    for ref in references:
        team.submit(team.people[ref], manager, 3)


def test_team_statistics_wait_for_k_people_with_a_level(team: Team) -> None:
    rate(team, ["kam-1", "kam-2", "kam-3"])
    hr = team.side.client(Role.HR)
    page = f"/o/{team.side.org.slug}/assessments/{team.cycle.pk}/team/"
    api = f"{API}/organisations/{team.side.org.slug}/cycles/{team.cycle.pk}/results/"

    text = hr.get(page).content.decode()  # k = 5 (the default), 3 people rated
    assert "fewer than 5" in text
    assert re.search(r"mean fit \d+%", text) is None
    assert {p["percentile"] for p in hr.get(api).json()["people"]} == {None}

    team.side.org.min_group_size = 3
    team.side.org.save(update_fields=["min_group_size"])
    text = hr.get(page).content.decode()
    assert "fewer than 3" not in text
    assert re.search(r"mean fit \d+%", text) is not None
    ranked = [p["percentile"] for p in hr.get(api).json()["people"] if p["fit"] is not None]
    assert ranked == [50.0, 50.0, 50.0]
