"""Reading and scoring a cycle: combined levels, gaps, fit, sources, readiness, bench, queries.

Expected values are worked by hand from the scoring rules (kamfit.domain.scoring): the
combined level of a cell is the mean of the means of the sources present (weight 1 each,
self left out by default, peers only from 3 ratings on), the gap is combined minus the
required level (3 on the team profile, the middle of the 1–5 scale), and the fit is
100 · Σ v·min(y / r, 1) / Σ v over the scored requirements.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import cast

import numpy as np
import numpy.typing as npt
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kamfit.assessments import services
from kamfit.assessments.models import Cycle, Person
from kamfit.assessments.queries import (
    WEAK_READINESS,
    CycleData,
    PersonLine,
    bench_strength,
    evidence_for,
    load_cycle,
    person_lines,
)
from kamfit.assessments.services import (
    ImportedRating,
    PersonInput,
    PsychometricInput,
    RatingInput,
)
from kamfit.audits import services as audit_services
from kamfit.audits.models import AuditItem, Rating
from kamfit.domain import anonymity, scoring
from kamfit.orgs.models import Role
from kamfit.profiles.models import ProfileVersion
from tests.conftest import TEAM_KEYS as KEYS
from tests.conftest import Personas, Side, Team
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

# Equal weights of 11 requirements: 100 / 11 rounded to 9.09, the first taking the rest.
WEIGHT = dict.fromkeys(KEYS, 9.09) | {"analytical": 9.1}
REQUIRED = 3.0
CREDIBILITY = {
    "analytical",
    "networking",
    "influencing",
    "communication",
    "vision-creativity",
    "trustworthy",
    "credibility-experience",
    "listening",
}  # the competencies the credibility element cites; risk cites the other three

MANAGER = dict.fromkeys(KEYS, 1) | {"negotiation": 4, "listening": 2}
PEERS = (dict.fromkeys(KEYS, 2), dict.fromkeys(KEYS, 2), dict.fromkeys(KEYS, 5))  # mean 3
SELF = dict.fromkeys(KEYS, 5) | {"negotiation": 2, "analytical": 2}


def submit(team: Team, person: Person, user: User, levels: dict[str, int]) -> None:
    form = services.draft_form(team.rater(person, user), user)
    answers = {k: RatingInput(v, f"Saw {k} at {v}") for k, v in levels.items()}
    services.save_form(form, user, answers, submit=True)


def rate_kam(team: Team, *, peers: int = 3, self_too: bool = True) -> None:
    users = team.side.users
    submit(team, team.kam, users[Role.MANAGER], MANAGER)
    for user, levels in list(zip(team.peers, PEERS, strict=True))[:peers]:
        submit(team, team.kam, user, levels)
    if self_too:
        submit(team, team.kam, users[Role.PARTICIPANT], SELF)


def row_of(data: CycleData, person: Person) -> int:
    return data.index[person.pk]


def by_key(data: CycleData, values: npt.NDArray[np.float64]) -> dict[str, float | None]:
    """One row of a (people × requirements) array by competency key, rounded to 1e-9."""
    return {
        c.key: (None if math.isnan(v) else round(float(v), 9))
        for c, v in zip(data.columns, values.tolist(), strict=True)
    }


def lines_by_key(data: CycleData, person: Person) -> dict[str, PersonLine]:
    return {line.column.key: line for line in person_lines(data, row_of(data, person))}


def hand_fit(combined: dict[str, float]) -> float:
    scored = [k for k in KEYS if combined.get(k) is not None]
    total = sum(WEIGHT[k] * min(combined[k] / REQUIRED, 1.0) for k in scored)
    return 100 * total / sum(WEIGHT[k] for k in scored)


# --- the shape of a cycle ------------------------------------------------------------------


def test_load_cycle_lays_out_columns_people_and_raters(team: Team) -> None:
    data = load_cycle(team.cycle)

    assert [c.key for c in data.columns] == KEYS
    assert {c.key: c.weight for c in data.columns} == WEIGHT
    assert {c.required for c in data.columns} == {3}
    kinds = {c.key: c.kind for c in data.columns}
    assert (kinds["negotiation"], kinds["trustworthy"], kinds["listening"]) == ("C", "A", "C/A")
    elements = {c.key: c.elements for c in data.columns}
    assert elements["trustworthy"] == (("credibility", "Credibility"),)
    assert elements["negotiation"] == (("risk", "Risk"),)
    assert {k for k, e in elements.items() if e == (("credibility", "Credibility"),)} == CREDIBILITY
    # People by name: Casey (kam-2), Pat (kam-1), Robin (kam-3), Sam (kam-4).
    assert [a.person.reference for a in data.assessees] == ["kam-2", "kam-1", "kam-3", "kam-4"]
    assert data.invited.tolist() == [2, 5, 1, 0]
    assert data.submitted.tolist() == [0, 0, 0, 0]
    assert data.ratings.shape == (5, 4, 11)
    assert len(data.scale) == 5
    assert data.readiness == {}
    assert np.isnan(data.scores.fit).all()  # nothing submitted: no fit at all


def test_load_cycle_combines_manager_and_three_peers_without_self(team: Team) -> None:
    rate_kam(team)

    data = load_cycle(team.cycle)
    row = row_of(data, team.kam)

    combined = {k: (MANAGER[k] + 3.0) / 2 for k in KEYS}  # peers' mean is 3 everywhere
    assert combined["analytical"] == 2.0
    assert combined["negotiation"] == 3.5
    assert combined["listening"] == 2.5
    assert by_key(data, data.scores.combined[row]) == combined
    assert by_key(data, data.scores.gaps[row]) == {k: v - REQUIRED for k, v in combined.items()}
    assert data.scores.fit[row] == pytest.approx(hand_fit(combined), abs=1e-9)
    # 100 · (9.1·2/3 + 7·9.09·2/3 + 9.09·1 + 9.09·2.5/3 + 9.09·2/3) / 100
    assert data.scores.fit[row] == pytest.approx(71.211666667, abs=1e-6)
    assert data.scores.coverage[row] == pytest.approx(1.0)
    assert data.submitted[row] == 5
    assert data.invited[row] == 5


def test_peers_count_only_from_three_ratings(team: Team) -> None:
    rate_kam(team, peers=2)

    data = load_cycle(team.cycle)
    row = row_of(data, team.kam)
    combined = {k: float(v) for k, v in MANAGER.items()}  # two peers: the manager alone
    assert by_key(data, data.scores.combined[row]) == combined
    assert data.scores.fit[row] == pytest.approx(hand_fit(combined), abs=1e-9)
    # 100 · (9.1/3 + 7·9.09/3 + 9.09 + 9.09·2/3 + 9.09/3) / 100
    assert data.scores.fit[row] == pytest.approx(42.423333333, abs=1e-6)
    # Two peers and no other: a rater group below 3 is hidden (issue 5, k = 3), not listed.
    sources = [c.source for c in lines_by_key(data, team.kam)["negotiation"].sources]
    assert "peer" not in sources
    assert data.placement is not None
    assert data.placement[0, row].tolist() == [anonymity.HIDDEN] * len(data.columns)

    submit(team, team.kam, team.peers[2], PEERS[2])
    data = load_cycle(team.cycle)
    assert by_key(data, data.scores.combined[row_of(data, team.kam)])["negotiation"] == 3.5


def test_person_lines_show_each_source_and_self_against_others(team: Team) -> None:
    rate_kam(team)

    lines = lines_by_key(load_cycle(team.cycle), team.kam)

    negotiation = lines["negotiation"]
    assert (negotiation.combined, negotiation.gap, negotiation.self_rating) == (3.5, 0.5, 2.0)
    assert negotiation.others == 3.5
    assert (negotiation.blind_spot, negotiation.hidden_strength) == (False, True)
    assert not negotiation.short
    assert [(c.source, c.mean, c.count, c.counted) for c in negotiation.sources] == [
        ("self", 2.0, 1, False),
        ("manager", 4.0, 1, True),
        ("peer", 3.0, 3, True),
    ]
    listening = lines["listening"]  # self 5 against others 2.5
    assert (listening.blind_spot, listening.hidden_strength, listening.short) == (True, False, True)
    assert listening.gap == -0.5
    analytical = lines["analytical"]  # self 2 against others 2
    assert (analytical.blind_spot, analytical.hidden_strength) == (False, False)
    assert [k for k, line in lines.items() if line.blind_spot] == [
        k for k in KEYS if k not in {"negotiation", "analytical"}
    ]
    assert not any(line.psychometric for line in lines.values())
    # Nobody rated the colleague: no line has a score.
    colleague = lines_by_key(load_cycle(team.cycle), team.colleague)
    assert all(line.combined is None and line.sources == () for line in colleague.values())


def test_self_counts_when_the_cycle_says_so(team: Team) -> None:
    rate_kam(team)
    services.update_cycle(team.cycle, rules={"include_self": True})

    data = load_cycle(team.cycle)
    row = row_of(data, team.kam)

    combined = by_key(data, data.scores.combined[row])
    assert combined["analytical"] == pytest.approx((2 + 1 + 3) / 3)
    assert combined["negotiation"] == pytest.approx((2 + 4 + 3) / 3)
    assert combined["listening"] == pytest.approx((5 + 2 + 3) / 3)
    assert combined["trustworthy"] == pytest.approx((5 + 1 + 3) / 3)
    assert by_key(data, data.scores.others[row])["listening"] == 2.5  # others never hold self
    self_cell = lines_by_key(data, team.kam)["listening"].sources[0]
    assert (self_cell.source, self_cell.counted) == ("self", True)


def test_load_cycle_reads_only_the_latest_submitted_version(team: Team) -> None:
    rate_kam(team)
    manager = team.side.users[Role.MANAGER]
    rater = team.rater(team.kam, manager)
    amendment = services.amend_form(rater, team.side.users[Role.HR], reason="Mixed up people")
    changed = {k: RatingInput(5, "Re-read the account plan") for k in KEYS}
    services.save_form(amendment, manager, changed)  # saved, not submitted: does not count yet

    data = load_cycle(team.cycle)
    assert by_key(data, data.scores.combined[row_of(data, team.kam)])["analytical"] == 2.0

    services.save_form(amendment, manager, changed, submit=True)
    data = load_cycle(team.cycle)
    row = row_of(data, team.kam)
    assert by_key(data, data.scores.combined[row])["analytical"] == 4.0  # (5 + 3) / 2
    assert data.submitted[row] == 5  # still five raters, not six forms


def test_a_psychometric_result_is_a_source_of_its_own_for_attributes(team: Team) -> None:
    rate_kam(team)
    services.save_psychometrics(
        team.side.org,
        None,
        [
            PsychometricInput("kam-1", "trustworthy", "Hogan", "sten", 1, dt.date(2019, 1, 1)),
            PsychometricInput("kam-1", "trustworthy", "Hogan", "sten", 10, dt.date(2020, 6, 1)),
            PsychometricInput("kam-1", "listening", "Hogan", "sten", 1, dt.date(2020, 6, 1)),
        ],
    )
    assert scoring.psychometric_level(10, "sten", 5) == 5.0
    assert scoring.psychometric_level(1, "sten", 5) == 1.0

    data = load_cycle(team.cycle)
    row = row_of(data, team.kam)
    lines = lines_by_key(data, team.kam)

    assert data.ratings.shape == (6, 4, 11)  # five raters of kam-1, then the test's slot
    trustworthy = lines["trustworthy"]  # the latest result, sten 10: level 5
    assert trustworthy.psychometric
    assert trustworthy.combined == pytest.approx((1 + 3 + 5) / 3)
    assert [(c.source, c.mean) for c in trustworthy.sources][-1] == ("psychometric", 5.0)
    assert lines["listening"].combined == pytest.approx((2 + 3 + 1) / 3)
    assert not lines["negotiation"].psychometric  # a competency (C) takes no test result
    assert lines["negotiation"].combined == 3.5
    assert data.psychometric[row].tolist() == [k in {"trustworthy", "listening"} for k in KEYS]
    assert not data.psychometric[row_of(data, team.colleague)].any()


def test_load_cycle_reads_again_whatever_changed_since_the_last_read(team: Team) -> None:
    rate_kam(team, peers=2)
    first = load_cycle(team.cycle)
    assert by_key(first, first.scores.combined[row_of(first, team.kam)])["negotiation"] == 4.0
    assert load_cycle(team.cycle).invited.tolist() == [2, 5, 1, 0]  # read twice: same

    submit(team, team.kam, team.peers[2], PEERS[2])  # a new submitted form
    data = load_cycle(team.cycle)
    assert by_key(data, data.scores.combined[row_of(data, team.kam)])["negotiation"] == 3.5

    services.save_psychometrics(
        team.side.org,
        None,
        [PsychometricInput("kam-1", "trustworthy", "Hogan", "sten", 10, dt.date(2020, 6, 1))],
    )
    data = load_cycle(team.cycle)
    assert lines_by_key(data, team.kam)["trustworthy"].combined == pytest.approx(3.0)

    services.upsert_people(team.side.org, None, [PersonInput("kam-4", "Aaron Early")])
    services.remove_rater(team.rater(team.colleague, team.side.users[Role.ASSESSOR]))
    data = load_cycle(team.cycle)  # a new order of rows, one rater fewer
    assert [a.person.reference for a in data.assessees] == ["kam-4", "kam-2", "kam-1", "kam-3"]
    assert data.invited.tolist() == [0, 1, 5, 1]
    assert lines_by_key(data, team.kam)["trustworthy"].combined == pytest.approx(3.0)
    assert lines_by_key(data, team.people["kam-4"])["trustworthy"].combined is None

    manager = team.side.users[Role.MANAGER]
    amendment = services.amend_form(team.rater(team.kam, manager), manager, reason="Recount")
    services.save_form(amendment, manager, {"negotiation": RatingInput(2, "Lost")}, submit=True)
    data = load_cycle(team.cycle)
    assert lines_by_key(data, team.kam)["negotiation"].combined == 2.5  # (2 + 3) / 2
    assert lines_by_key(data, team.kam)["listening"].combined == 3.0  # the manager left it out


# --- readiness beside the gaps -------------------------------------------------------------


def audit_rated(side: Side, ratings: dict[str, str], respondents: int = 3) -> None:
    """Open a readiness audit on credibility and risk and have ``respondents`` answer it."""
    side.org.min_group_size = 3  # the organisation's k is a floor for the audit's (issue 5)
    side.org.save(update_fields=["min_group_size"])
    audit = audit_services.open_audit(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        version=side.published,
        title="Readiness 2030",
        element_keys=["credibility", "risk"],
        min_group_size=3,
    )
    items = list(AuditItem.objects.filter(audit=audit))
    for n in range(respondents):
        respondent, _ = audit_services.invite_by_link(
            audit=audit, name=f"Respondent {n}", department="sales"
        )
        answers = {
            item.pk: audit_services.AnswerInput(ratings.get(item.element_key, Rating.GOOD))
            for item in items
        }
        audit_services.save_answers(respondent=respondent, answers=answers, submit=True)


def test_a_gap_shows_the_weak_company_side_of_its_role_element(team: Team) -> None:
    rate_kam(team)
    # Credibility all Poor (0); risk all Fair (50): not below the bar of 50.
    audit_rated(team.side, {"credibility": Rating.POOR, "risk": Rating.FAIR})

    data = load_cycle(team.cycle)
    lines = lines_by_key(data, team.kam)

    assert WEAK_READINESS == 50.0
    assert {k: r.score for k, r in data.readiness.items()} == {"credibility": 0.0, "risk": 50.0}
    assert lines["trustworthy"].weak_elements == (("Credibility", 0.0),)
    assert lines["listening"].weak_elements == (("Credibility", 0.0),)
    assert lines["negotiation"].weak_elements == ()
    assert {k for k, line in lines.items() if line.weak_elements} == CREDIBILITY


def test_no_weak_element_until_an_audit_has_enough_answers(team: Team) -> None:
    rate_kam(team)
    audit_rated(team.side, {"credibility": Rating.POOR, "risk": Rating.POOR}, respondents=2)
    data = load_cycle(team.cycle)
    assert data.readiness == {}
    assert all(line.weak_elements == () for line in lines_by_key(data, team.kam).values())


# --- evidence --------------------------------------------------------------------------------


def test_evidence_names_self_and_manager_only_when_asked_and_never_peers(team: Team) -> None:
    rate_kam(team)
    negotiation = next(c for c in load_cycle(team.cycle).columns if c.key == "negotiation")
    assessee = team.assessee(team.kam)

    named = evidence_for(assessee, named=True)[negotiation.competency_id]
    anonymous = evidence_for(assessee, named=False)[negotiation.competency_id]

    assert [(e.source, e.rater, e.level) for e in named] == [
        ("manager", "alpha-manager", 4),
        ("peer", "", 2),
        ("peer", "", 2),
        ("peer", "", 5),
        ("self", "alpha-participant", 2),
    ]
    assert [e.rater for e in anonymous] == ["", "", "", "", ""]
    assert [e.text for e in anonymous] == [
        "Saw negotiation at 4",
        "Saw negotiation at 2",
        "Saw negotiation at 2",
        "Saw negotiation at 5",
        "Saw negotiation at 2",
    ]
    assert evidence_for(team.assessee(team.colleague), named=True) == {}


def test_evidence_of_fewer_peers_than_the_minimum_stays_hidden_from_the_person(
    team: Team,
) -> None:
    rate_kam(team, peers=2)
    assessee = team.assessee(team.kam)
    negotiation = next(c for c in load_cycle(team.cycle).columns if c.key == "negotiation")

    def sources(*, named: bool) -> list[str]:
        return [e.source for e in evidence_for(assessee, named=named)[negotiation.competency_id]]

    # Two peers: the scores leave their mean out, so the evidence cannot show it either.
    assert sources(named=False) == ["manager", "self"]
    assert sources(named=True) == ["manager", "peer", "peer", "self"]  # HR reads everything
    # A cycle's min_peers below 3 changes the scoring rule, never the anonymity floor of 3.
    services.update_cycle(team.cycle, rules={"min_peers": 2})
    assessee = team.assessee(team.kam)
    assert sources(named=False) == ["manager", "self"]
    submit(team, team.kam, team.peers[2], PEERS[2])
    assert sources(named=False) == ["manager", "peer", "peer", "peer", "self"]


def test_evidence_comes_from_the_latest_submitted_version(team: Team) -> None:
    manager = team.side.users[Role.MANAGER]
    submit(team, team.kam, manager, MANAGER)
    amendment = services.amend_form(team.rater(team.kam, manager), manager, reason="Clearer")
    services.save_form(
        amendment, manager, {"negotiation": RatingInput(5, "Won the Initech tender")}, submit=True
    )
    found = evidence_for(team.assessee(team.kam), named=True)
    assert [[e.text for e in v] for v in found.values()] == [["Won the Initech tender"]]


# --- bench strength -------------------------------------------------------------------------


def risk_profile(side: Side) -> ProfileVersion:
    from kamfit.profiles import services as profile_services

    director = side.users[Role.DIRECTOR]
    version = profile_services.create_profile(
        organisation=side.org,
        user=director,
        framework_version=side.published,
        title="Risk lead",
        element_keys=["risk"],
    )
    profile_services.publish_version(version, director)
    version.refresh_from_db()
    return version


def test_bench_strength_scores_every_published_profile_from_the_cycle(team: Team) -> None:
    rate_kam(team)
    users = team.side.users
    submit(team, team.colleague, users[Role.MANAGER], dict.fromkeys(KEYS, 4))
    submit(team, team.people["kam-3"], users[Role.MANAGER], dict.fromkeys(KEYS, 2))
    risk = risk_profile(team.side)

    data = load_cycle(team.cycle)
    lines = {line.profile.title: line for line in bench_strength(data)}

    assert sorted(lines) == ["Global account manager", "Risk lead"]
    # Rows: kam-2 (4 everywhere), kam-1 (as above), kam-3 (2 everywhere), kam-4 (nothing).
    # kam-1 fits 71.2 with no gap below -1: ready with development; kam-3 fits 66.7: not yet.
    assert data.bands.tolist() == [2, 1, 0, -1]
    gam = lines["Global account manager"]
    assert gam.version == team.profile
    assert gam.fits[row_of(data, team.kam)] == pytest.approx(71.211666667, abs=1e-6)
    assert gam.bands.tolist() == [2, 1, 0, -1]
    assert gam.counts == {2: 1, 1: 1, 0: 1, -1: 1}
    assert [(p.reference, round(f, 4)) for p, f in gam.ready] == [("kam-2", 100.0)]
    assert [(p.reference, round(f, 4)) for p, f in gam.developing] == [("kam-1", 71.2117)]
    risk_line = lines["Risk lead"]
    assert risk_line.version == risk
    # kam-1 on the risk profile: financially-aware 2, negotiation 3.5, risk-taking 2,
    # against level 3 each, weighted 33.34, 33.33 and 33.33.
    fit = (33.34 * 2 / 3 + 33.33 * 1 + 33.33 * 2 / 3) / 100 * 100
    assert risk_line.fits[row_of(data, team.kam)] == pytest.approx(fit, abs=1e-6)
    assert risk_line.fits[row_of(data, team.people["kam-3"])] == pytest.approx(200 / 3)
    assert risk_line.bands.tolist() == [2, 1, 0, -1]
    assert [p.reference for p, _ in risk_line.developing] == ["kam-1"]


def test_bench_strength_leaves_out_draft_profiles_and_other_organisations(
    team: Team, personas: Personas
) -> None:
    from kamfit.profiles import services as profile_services

    rate_kam(team)
    profile_services.create_profile(
        organisation=team.side.org,
        user=team.side.users[Role.DIRECTOR],
        framework_version=team.side.published,
        title="Draft role",
        element_keys=["risk"],
    )
    risk_profile(personas.b)
    titles = [line.profile.title for line in bench_strength(load_cycle(team.cycle))]
    assert titles == ["Global account manager"]


def test_load_cycle_of_some_people_scores_them_as_the_whole_cycle_does(team: Team) -> None:
    rate_kam(team)
    submit(team, team.colleague, team.side.users[Role.MANAGER], dict.fromkeys(KEYS, 4))
    whole = load_cycle(team.cycle)

    some = load_cycle(team.cycle, people=[team.kam.pk])

    assert [a.person for a in some.assessees] == [team.kam]
    assert some.index == {team.kam.pk: 0}
    assert by_key(some, some.scores.combined[0]) == by_key(
        whole, whole.scores.combined[row_of(whole, team.kam)]
    )
    assert some.scores.fit[0] == pytest.approx(whole.scores.fit[row_of(whole, team.kam)])
    assert some.invited.tolist() == [5]
    assert some.submitted.tolist() == [5]
    assert load_cycle(team.cycle, people=[]).assessees == ()


# --- a fixed number of queries -----------------------------------------------------------------


def cycle_of(side: Side, profile: ProfileVersion, size: int, raters: list[User]) -> Cycle:
    """A cycle of ``size`` new people, each rated by every user of ``raters``."""
    tag = f"c{size}"
    services.upsert_people(
        side.org,
        None,
        [
            PersonInput(f"{tag}-{i}", f"Person {tag} {i}", profile=profile.profile.key)
            for i in range(size)
        ],
    )
    people = list(Person.objects.filter(organisation=side.org, reference__startswith=f"{tag}-"))
    cycle = services.create_cycle(side.org, None, title=tag, profile_version=profile)
    services.add_people(cycle, None, people)
    services.open_cycle(cycle)
    rows = [
        ImportedRating(p.reference, u.username, "peer", key, 1 + (i + j) % 5, "Seen")
        for i, p in enumerate(people)
        for j, u in enumerate(raters)
        for key in KEYS
    ]
    services.import_ratings(cycle, None, rows)
    services.save_psychometrics(
        side.org,
        None,
        [
            PsychometricInput(p.reference, "trustworthy", "Hogan", "sten", 7, dt.date(2020, 1, 1))
            for p in people
        ],
    )
    return Cycle.objects.get(pk=cycle.pk)


def test_load_cycle_issues_the_same_number_of_queries_for_4_and_30_people(team: Team) -> None:
    side = team.side
    raters = []
    for n in range(4):
        user = cast(User, UserFactory(username=f"alpha-rater{n}"))
        MembershipFactory(organisation=side.org, role=Role.PARTICIPANT, user=user)
        raters.append(user)
    audit_rated(side, {"credibility": Rating.POOR})
    small = cycle_of(side, team.profile, 4, raters)
    large = cycle_of(side, team.profile, 30, raters)

    counts = []
    for pk in (small.pk, large.pk, small.pk, large.pk):  # read, then read again unchanged
        cycle = Cycle.objects.get(pk=pk)
        with CaptureQueriesContext(connection) as queries:
            data = load_cycle(cycle)
            for row in range(len(data.assessees)):
                person_lines(data, row)
            bench_strength(data)
        counts.append(len(queries))
        assert data.submitted.tolist() == [4] * len(data.assessees)
        assert data.psychometric[:, KEYS.index("trustworthy")].all()
    assert counts[0] == counts[1], counts
    assert counts[2] == counts[3]
    # Some people of a cycle (as a development plan reads one person) are read directly.
    one = [small.assessees.values_list("person_id", flat=True)[0]]
    everyone = list(large.assessees.values_list("person_id", flat=True))
    some = []
    for cycle, people in ((small, one), (large, everyone)):
        with CaptureQueriesContext(connection) as queries:
            load_cycle(cycle, people=people)
        some.append(len(queries))
    assert some[0] == some[1], some
    assert len(load_cycle(large).assessees) == 30
