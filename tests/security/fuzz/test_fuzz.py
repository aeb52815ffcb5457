"""The API fuzzer in ``make test``: every operation, every identity, zero findings.

A short version of ``make fuzz`` (``python -m tests.security.fuzz.run``): fewer examples
per operation (``KAMFIT_FUZZ_EXAMPLES``, default 15) so that it fits the suite's time on
both databases; the seed is fixed (``KAMFIT_FUZZ_SEED``) and printed with any failure.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.security.fuzz.run import fuzz
from tests.security.fuzz.seed import IDENTITIES

EXAMPLES = int(os.environ.get("KAMFIT_FUZZ_EXAMPLES", "15"))
SEED = int(os.environ.get("KAMFIT_FUZZ_SEED", "2006"))


def test_schemathesis_finds_no_error_no_schema_violation_and_no_authorization_gap(
    tmp_path: Path,
) -> None:
    report = fuzz(examples=EXAMPLES, seed=SEED, workdir=tmp_path)
    details = "\n".join(
        f"--- {run.name} ---\n{run.output[-8000:]}\nleaks: {run.leaks}"
        for run in report.runs
        if not run.ok
    )
    assert report.ok, f"{report.table()}\n{details}"
    assert report.operations >= 70  # every operation of the schema was in the run
    assert len(report.runs) == len(IDENTITIES) + 1
    assert all(run.cases > 0 for run in report.runs), report.table()
