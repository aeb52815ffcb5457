"""Benchmark the scoring pass: numpy (kamfit.domain.scoring) against pandas, same formulas.

Random ratings (seeded) for 10k, 100k and 1M people × 21 competencies × 4 rater slots
(self, manager, peer, peer; about 5% missing; 50 peer groups), scored by
:func:`kamfit.domain.scoring.score` and by a pandas implementation of the same formulas in
long format (one row per rating) with ``groupby``. Prints the median times, their ratio
and whether the two agree. Run on its own with::

    .venv/bin/python -c "from tests.bench.scoring import bench_scoring; bench_scoring()"
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from kamfit.domain.scoring import ScoringRules

    Floats = npt.NDArray[np.float64]

T = TypeVar("T")
SIZES = ((10_000, 7, 3, 5.0), (100_000, 5, 2, 25.0), (1_000_000, 3, 1, 300.0))  # runs, target
COMPETENCIES = 21
GROUPS = 50
MISSING = 0.05
MIN_RATIO = 20  # PERFORMANCE.md: numpy at least 20 times faster than pandas groupby


def bench_scoring() -> None:
    """Time score() and the pandas implementation at three sizes and print a table."""
    print(f"\nScoring pass: people × {COMPETENCIES} competencies × 4 rater slots (self, manager,")
    print(f"peer, peer; {MISSING:.0%} missing; {GROUPS} groups; min_peers=2), float64, median ms.")
    print("pandas ms excludes building its long DataFrame (one row per rating).\n")
    columns = ("people", "numpy ms", "pandas ms", "ratio", "target ms", "agree")
    header = " ".join(f"{name:>10}" for name in columns)
    print(header)
    print("-" * len(header))
    failures = []
    for people, numpy_runs, pandas_runs, target in SIZES:
        numpy_ms, pandas_ms, agree = _bench_size(people, numpy_runs, pandas_runs)
        ratio = pandas_ms / numpy_ms
        print(
            f"{people:>10,} {numpy_ms:>10.1f} {pandas_ms:>10.1f} {f'{ratio:.0f}×':>10}"
            f" {target:>10.0f} {'yes' if agree else 'NO':>10}"
        )
        if not agree:
            failures.append(f"{people:,} people: numpy and pandas disagree")
        if numpy_ms > target:
            failures.append(f"{people:,} people: {numpy_ms:.1f} ms is above {target:.0f} ms")
        if ratio < MIN_RATIO:
            failures.append(f"{people:,} people: only {ratio:.0f}× pandas (target {MIN_RATIO}×)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"\npeak memory (max RSS of the process): {peak:.1f} GB")
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("targets missed: " + ("; ".join(failures) if failures else "none"))


def _bench_size(people: int, numpy_runs: int, pandas_runs: int) -> tuple[float, float, bool]:
    """Return the median numpy and pandas times for one size, and whether they agree."""
    import numpy as np

    from kamfit.domain.scoring import MANAGER, PEER, SELF, ScoringRules, score

    # Two peer slots: the default minimum of three peers would drop every peer mean.
    rules = ScoringRules(min_peers=2)
    rng = np.random.default_rng(people)
    ratings = rng.integers(1, 6, size=(4, people, COMPETENCIES)).astype(np.float64)
    ratings[rng.random(ratings.shape) < MISSING] = np.nan
    sources = np.empty((4, people), dtype=np.int8)
    sources[:] = np.array([SELF, MANAGER, PEER, PEER], dtype=np.int8)[:, np.newaxis]
    required = rng.integers(2, 6, COMPETENCIES).astype(np.float64)
    weights = rng.integers(1, 10, COMPETENCIES).astype(np.float64)
    groups = rng.integers(0, GROUPS, people)
    args = (ratings, sources, required, weights, rules, groups)

    numpy_ms = _median_ms(lambda: score(*args), numpy_runs)[0]  # the result is dropped
    # One large result alive at a time keeps the peak memory down at 1M people.
    pandas_ms, theirs = _pandas_timed(args, pandas_runs)
    scores = score(*args)
    agree = all(
        np.allclose(getattr(scores, name), theirs[name], equal_nan=True)
        for name in ("combined", "fit", "percentile", "coverage")
    ) and bool(np.array_equal(scores.blind_spots, theirs["blind_spots"]))
    return numpy_ms, pandas_ms, agree


def _pandas_timed(args: tuple[Any, ...], runs: int) -> tuple[float, dict[str, Any]]:
    """Return the median time of the pandas pass and its results laid out as arrays."""
    ratings, sources, required, weights, rules, groups = args
    long = _long_frame(ratings, sources)
    ms, result = _median_ms(lambda: _pandas_scores(long, required, weights, rules, groups), runs)
    return ms, _as_arrays(result, ratings.shape[1])


def _median_ms(run: Callable[[], T], runs: int) -> tuple[float, T]:
    """Return the median time of ``runs`` calls in ms, and the last call's result."""
    times = []
    for i in range(runs):
        gc.collect()
        start = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - start) * 1000)
        if i < runs - 1:
            del result
    return statistics.median(times), result


def _long_frame(ratings: Floats, sources: npt.NDArray[np.int8]) -> Any:
    """Return one row per rating: person, competency, source, level (untimed set-up)."""
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped]

    k, n, c = ratings.shape
    keep = ~np.isnan(ratings) & (sources >= 0)[:, :, np.newaxis]
    # Masking broadcast views, not np.nonzero: three int64 indices of 80M rows would cost 2 GB.
    person = np.arange(n, dtype=np.int32)[np.newaxis, :, np.newaxis]
    competency = np.arange(c, dtype=np.int8)[np.newaxis, np.newaxis, :]
    return pd.DataFrame(
        {
            "person": np.broadcast_to(person, (k, n, c))[keep],
            "competency": np.broadcast_to(competency, (k, n, c))[keep],
            "source": np.broadcast_to(sources[:, :, np.newaxis], (k, n, c))[keep],
            "level": ratings[keep],
        }
    )


def _as_arrays(result: dict[str, Any], people: int) -> dict[str, Any]:
    """Lay pandas' long results out as score()'s arrays, for the comparison (untimed)."""
    import numpy as np

    combined = np.full(people * COMPETENCIES, np.nan)
    combined[result["combined"].index.to_numpy()] = result["combined"].to_numpy()
    blind = np.zeros(people * COMPETENCIES, dtype=np.bool_)
    blind[result["blind_spots"].index.to_numpy()] = True
    shape = (people, COMPETENCIES)
    out: dict[str, Any] = {"combined": combined.reshape(shape), "blind_spots": blind.reshape(shape)}
    for name in ("fit", "coverage", "percentile"):
        column = np.full(people, np.nan)
        column[result[name].index] = result[name].to_numpy()
        out[name] = column
    out["coverage"] = np.nan_to_num(out["coverage"])  # people with no score: coverage 0
    return out


if __name__ == "__main__":
    bench_scoring()


def _pandas_scores(
    long: Any, required: Floats, weights: Floats, rules: ScoringRules, groups: Any
) -> dict[str, Any]:
    """Score in pandas, straight from the formulas, grouping on integer keys of cells."""
    import numpy as np
    import pandas as pd

    from kamfit.domain.scoring import PEER, SELF, SOURCES

    s = len(SOURCES)
    # person * C * S + competency * S + source fits int32 up to 20M people.
    key = (long["person"].to_numpy() * COMPETENCIES + long["competency"].to_numpy()) * s
    by_source = long["level"].groupby(key + long["source"].to_numpy()).agg(["mean", "count"])
    source = by_source.index.to_numpy() % s
    means = by_source["mean"][~((source == PEER) & (by_source["count"] < rules.min_peers))]
    source = means.index.to_numpy() % s
    cell = means.index.to_numpy() // s
    weight = np.array([rules.source_weights[name] for name in SOURCES])[source]

    def weighted_mean(with_self: bool) -> Any:
        use = (weight > 0) & (with_self | (source != SELF))
        parts = pd.DataFrame({"num": means.to_numpy()[use] * weight[use], "den": weight[use]})
        sums = parts.groupby(cell[use]).sum()
        return sums["num"] / sums["den"]

    others = weighted_mean(False)
    combined = weighted_mean(True) if rules.include_self else others
    competency = combined.index.to_numpy() % COMPETENCIES
    req, w = required[competency], weights[competency]
    per_cell = pd.DataFrame({"num": np.minimum(combined / req, 1.0) * w, "den": w})
    per_person = per_cell.groupby(combined.index.to_numpy() // COMPETENCIES).sum()
    fit = 100 * per_person["num"] / per_person["den"]
    ranked = pd.DataFrame({"grid": np.rint(fit * 2.0**30), "group": groups[fit.index]})
    by_group = ranked.groupby("group")["grid"]
    percentile = 100 * (by_group.rank(method="average") - 0.5) / by_group.transform("count")
    own = pd.Series(means.to_numpy()[source == SELF], index=cell[source == SELF])
    difference = (own - others).dropna()
    return {
        "combined": combined,
        "fit": fit,
        "coverage": per_person["den"] / weights.sum(),
        "percentile": percentile,
        "blind_spots": difference[difference >= rules.blind_spot_threshold - 1e-9],
    }
