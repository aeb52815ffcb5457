"""T27: minimum group size and differencing, through the functions the reports use.

Rater groups: random cycles (1 to 60 people, up to 8 raters each of random sources) go
through ``kamfit.assessments.queries._anonymise`` and ``scoring.score``, exactly as
:func:`load_cycle` reads every result page, API answer, export and CLI output. The
attacker changes what must stay secret (the ratings of a hidden group; how a pooled
group's ratings split between peers and others) and checks that nothing shown moves.

Readiness audits: random respondents and departments through
:func:`kamfit.audits.queries.get_audit_results` (the results page, API and exports), with
the attacker subtracting every set of shown department cells from each item's overall.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kamfit.assessments.queries import _anonymise
from kamfit.audits import services as audit_services
from kamfit.audits.models import AuditItem, Department, Rating
from kamfit.audits.queries import get_audit_results
from kamfit.domain import anonymity, scoring
from kamfit.orgs.models import Role
from tests.conftest import Personas

CODES = (scoring.EMPTY, scoring.SELF, scoring.MANAGER, scoring.PEER, scoring.OTHER)


@st.composite
def cycles(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 60))
    k = draw(st.integers(1, 8))
    c = draw(st.integers(1, 3))
    sources = draw(hnp.arrays(np.int8, (k, n), elements=st.sampled_from(CODES)))
    levels = draw(hnp.arrays(np.float64, (k, n, c), elements=st.sampled_from([1.0, 2, 3, 4, 5])))
    missing = draw(hnp.arrays(np.bool_, (k, n, c), elements=st.booleans()))
    ratings = np.where(missing | (sources == scoring.EMPTY)[:, :, None], np.nan, levels)
    return ratings, sources


def shown(ratings: np.ndarray, sources: np.ndarray) -> tuple[list[object], np.ndarray]:
    """Everything a result shows, and where the groups went."""
    x, codes, placement = _anonymise(ratings, sources)
    c = ratings.shape[2]
    s = scoring.score(x, codes, np.full(c, 3.0), np.ones(c))
    figures = [s.source_means, s.source_counts, s.combined, s.others, s.gaps, s.fit, s.coverage]
    figures += [s.blind_spots, s.hidden_strengths, s.percentile]
    return figures, placement


def same(a: list[object], b: list[object]) -> bool:
    return all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]


@settings(max_examples=500, deadline=None, derandomize=True)
@given(cycle=cycles(), noise=st.integers(0, 2**32 - 1))
def test_t27_rater_groups_below_three_are_never_readable(
    cycle: tuple[np.ndarray, np.ndarray], noise: int
) -> None:
    ratings, sources = cycle
    figures, placement = shown(ratings, sources)
    counts = figures[1]
    assert isinstance(counts, np.ndarray)
    for code in (scoring.PEER, scoring.OTHER):  # every shown anonymous cell has 3 or more
        cell = counts[code]
        assert ((cell == 0) | (cell >= anonymity.RATER_GROUP_K)).all()
    # The attacker's unknowns: hidden groups' ratings, and within a pooled cell which
    # of peers and others gave what. Change them; nothing shown may change.
    rng = np.random.default_rng(noise)
    changed = ratings.copy()
    rated = ~np.isnan(ratings)
    for g, code in enumerate((scoring.PEER, scoring.OTHER)):
        slot = (sources == code)[:, :, None] & rated
        hidden = slot & (placement[g] == anonymity.HIDDEN)[None]
        changed[hidden] = rng.integers(1, 6, size=int(hidden.sum()))
    pooled = (placement[0] == anonymity.MERGED)[None] & rated
    pooled &= ((sources == scoring.PEER) | (sources == scoring.OTHER))[:, :, None]
    if pooled.any():  # give every pooled rater the pooled mean: the pooled sum is kept
        total = np.where(pooled, ratings, 0.0).sum(axis=0)
        mean = total / np.maximum(pooled.sum(axis=0), 1)
        changed = np.where(pooled, mean[None], changed)
    after, _ = shown(changed, sources)
    # Pooled ratings averaged: float rounding may differ in the last bits only.
    for x, y in zip(figures, after, strict=True):
        assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
        if x.dtype.kind == "f":
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-9, equal_nan=True)
        else:
            assert np.array_equal(x, y)


def attack(parts: list[int], total: int, k: int) -> list[str]:
    """Sizes an attacker isolates from shown parts of a total (parts disjoint, in order)."""
    found = [f"cell of {n}" for n in parts if n < k]
    for r in range(1, len(parts) + 1):
        for chosen in combinations(parts, r):
            rest = total - sum(chosen)
            if 0 < rest < k:
                found.append(f"total minus {chosen} leaves {rest}")
    return found


DEPARTMENTS = list(Department.values)
ANSWERS = [Rating.POOR, Rating.FAIR, Rating.GOOD, Rating.DONT_KNOW]


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(
        st.tuples(st.sampled_from(DEPARTMENTS), st.sampled_from(ANSWERS)), min_size=1, max_size=60
    ),
    k=st.integers(3, 10),
)
def test_t27_readiness_by_department_never_isolates_fewer_than_k(
    personas: Personas, people: list[tuple[str, str]], k: int
) -> None:
    side = personas.a
    side.org.min_group_size = k
    side.org.save(update_fields=["min_group_size"])
    audit = audit_services.open_audit(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        version=side.published,
        title="T27",
        element_keys=[],
        scope="litmus",
        min_group_size=3,  # below the organisation's k: the organisation's wins
    )
    every = list(AuditItem.objects.filter(audit=audit))
    items = every[:1]
    for n, (department, answer) in enumerate(people):
        respondent = audit_services.invite_by_link(
            audit=audit, name=f"r{n}", department=department
        )[0]
        answers = {item.pk: audit_services.AnswerInput(answer) for item in every}
        audit_services.save_answers(respondent=respondent, answers=answers, submit=True)
    results = get_audit_results(audit)
    assert results.k == k
    if len(people) < k:
        assert results.withheld
        return
    assert all(size >= k for size in results.breakdown.sizes)
    row_of = dict(zip(results.breakdown.labels, range(len(results.breakdown.labels)), strict=True))
    for x, cells in results.breakdown_rows:
        if x.item not in items:
            continue
        answered = [0] * len(cells)
        for department, answer in people:
            label = Department(department).label
            row = row_of.get(label, row_of.get("Other departments"))
            if answer != Rating.DONT_KNOW and row is not None:
                answered[row] += 1
        visible = [n for n, v in zip(answered, cells, strict=True) if v is not None]
        assert attack(visible, x.stats.answered, k) == []
