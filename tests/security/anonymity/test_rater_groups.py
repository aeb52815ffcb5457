"""Rater groups of a 360 result through the page and the API: k = 3, merged or hidden."""

from __future__ import annotations

from typing import Any

from kamfit.assessments import services
from kamfit.assessments.queries import MERGED_LABEL
from kamfit.orgs.models import Role
from tests.conftest import Team
from tests.web.assessments.test_queries import MANAGER, PEERS, submit

API = "/api/v1"


def result(team: Team, role: Role) -> dict[str, Any]:
    url = f"{API}/organisations/{team.side.org.slug}/cycles/{team.cycle.pk}/results/{team.kam.pk}/"
    response = team.side.client(role).get(url)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def negotiation(body: dict[str, Any]) -> dict[str, Any]:
    return next(line for line in body["lines"] if line["key"] == "negotiation")


def release(team: Team) -> None:
    services.release_results(team.cycle, team.side.users[Role.HR], [team.assessee(team.kam)])


def test_two_peers_alone_are_hidden_and_count_in_nothing(team: Team) -> None:
    submit(team, team.kam, team.side.users[Role.MANAGER], MANAGER)
    for user, levels in zip(team.peers[:2], PEERS[:2], strict=True):
        submit(team, team.kam, user, levels)
    release(team)
    for role in (Role.PARTICIPANT, Role.MANAGER, Role.HR):
        line = negotiation(result(team, role))
        assert [s["source"] for s in line["sources"]] == ["manager"]
        assert line["combined"] == MANAGER["negotiation"]  # the peers' 2s move nothing
        assert all(e["source"] != "peer" for e in line["evidence"]) or role == Role.HR
    page = team.side.client(Role.PARTICIPANT).get(
        f"/o/{team.side.org.slug}/assessments/{team.cycle.pk}/people/{team.kam.pk}/"
    )
    assert "at least 3 raters" in page.content.decode()
    assert "Saw negotiation at 2" not in page.content.decode()  # no hidden peer's words


def test_two_peers_and_one_other_are_pooled_as_three(team: Team) -> None:
    submit(team, team.kam, team.side.users[Role.MANAGER], MANAGER)
    for user, levels in zip(team.peers[:2], PEERS[:2], strict=True):
        submit(team, team.kam, user, levels)
    assessor = team.side.users[Role.ASSESSOR]
    services.add_rater(team.assessee(team.kam), None, username=assessor.username, source="other")
    submit(team, team.kam, assessor, PEERS[2])  # 5 on every requirement
    release(team)
    for role in (Role.PARTICIPANT, Role.HR):
        line = negotiation(result(team, role))
        pooled = [s for s in line["sources"] if s["source"] in {"peer", "other"}]
        assert [(s["label"], s["count"], s["mean"]) for s in pooled] == [(MERGED_LABEL, 3, 3.0)]
        # manager 4 and the pooled 3, equal weights: nothing else counts
        assert line["combined"] == 3.5
        labels = {e["source"]: e for e in line["evidence"]}
        if role == Role.PARTICIPANT:
            assert all(e["level"] is None for e in line["evidence"] if e["source"] != "manager")
            assert list(labels) == ["manager", "other"]  # pooled words: no "peer" left
