"""Fuzz every API operation with Schemathesis, as several identities in two organisations.

``python -m tests.security.fuzz.run [--examples N] [--seed S]`` migrates a fresh
database (a new data directory on SQLite, or a scratch database beside
``DATABASE_URL`` on PostgreSQL), seeds it (:mod:`tests.security.fuzz.seed`), serves
kamfit with ``kamfit serve --production`` on a free loopback port and runs ``st run``:

* **Conformance (T5)**, once per identity, with positive and negative data in the
  examples, coverage, fuzzing and stateful phases: no server error, answers that match
  the schema's status codes, content types and bodies, invalid data rejected, deleted
  objects gone.
* **Authorization (T6)**, once with every identity in a Web Fuzzing Commons file:
  ``ignored_auth`` (requests without or with broken credentials are refused) and
  ``object_level_authorization`` (an object one identity reads is replayed as every
  other identity: Acme's HR, owner, manager, assessor and participant, Northwind's HR
  and a consultant assigned only to Northwind).

Every response body Schemathesis saw (its HAR report) is then searched for stack
traces, SQL and settings (T25). The paths' organisation is Acme's: other identities
reach it only to be refused. It prints a table and exits 1 on any finding.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from tests.load.run import BIN, ROOT, free_port, production_env, server
from tests.ops.conftest import scratch_database
from tests.security.fuzz.seed import IDENTITIES

ORG = "acme-supplies"
# The checks RELIABILITY.md's T5 names, and T6's two.
CONFORMANCE = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "use_after_free",
    "ensure_resource_availability",
)
AUTHORIZATION = ("ignored_auth", "object_level_authorization")
# What must never appear in an answer: a traceback, a source path, SQL, a setting.
LEAKS = re.compile(
    r"Traceback \(most recent call last\)|File \"/|near \"|SELECT .* FROM|"
    r"SECRET_KEY|DATABASE_URL|site-packages|IntegrityError|OperationalError"
)


@dataclass
class Run:
    """One ``st run``: who, what it found."""

    name: str
    checks: Sequence[str]
    returncode: int = -1
    cases: int = 0
    failures: int = 0
    seconds: float = 0.0
    output: str = ""
    leaks: list[str] = field(default_factory=list)
    retries: int = 0  # runs repeated after the fuzzer's own crash (TOOL_CRASH)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.leaks


@dataclass
class Report:
    seed: int
    examples: int
    operations: int
    runs: list[Run]

    @property
    def ok(self) -> bool:
        return all(run.ok for run in self.runs)

    def table(self) -> str:
        lines = [
            f"Schemathesis: {self.operations} operations, up to {self.examples} examples each "
            f"per phase, seed {self.seed}",
            f"{'run':<32} {'cases':>7} {'failures':>8} {'leaks':>5} {'retries':>7} {'time':>7}  "
            "result",
        ]
        for run in self.runs:
            lines.append(
                f"{run.name:<32} {run.cases:>7} {run.failures:>8} {len(run.leaks):>5} "
                f"{run.retries:>7} {run.seconds:>6.0f}s  {'ok' if run.ok else 'FAILED'}"
            )
        return "\n".join(lines)


def _junit_counts(path: Path) -> tuple[int, int]:
    """Test cases and failures from Schemathesis's JUnit report (0, 0 if there is none)."""
    if not path.exists():
        return 0, 0
    root = ET.parse(path).getroot()  # noqa: S314 - written by Schemathesis on this run
    cases = failures = 0
    for suite in root.iter("testsuite"):
        cases += int(suite.get("tests", 0))
        failures += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    return cases, failures


def _generated(output: str) -> int:
    """The number of test cases Schemathesis generated ("N generated" in its summary)."""
    found = re.search(r"(\d+) generated", output)
    return int(found.group(1)) if found else 0


def _leaks(har: Path) -> list[str]:
    """Response bodies in the HAR report that show a traceback, SQL or a setting."""
    if not har.exists():
        return []
    entries = json.loads(har.read_text("utf-8")).get("log", {}).get("entries", [])
    found = []
    for entry in entries:
        text = entry.get("response", {}).get("content", {}).get("text") or ""
        if LEAKS.search(text):
            found.append(f"{entry['request']['method']} {entry['request']['url']}")
    return found


def st_run(
    run: Run,
    *,
    schema: Path,
    base_url: str,
    auth_file: Path,
    user: str | None,
    examples: int,
    seed: int,
    phases: str,
    work: Path,
) -> Run:
    """Run ``st run`` once; fill in ``run``."""
    report = work / run.name
    args = [
        str(BIN / "st"),
        "run",
        str(schema),
        "--url",
        base_url,
        "--auth-wfc",
        str(auth_file),
        "--phases",
        phases,
        "--max-examples",
        str(examples),
        "--mode",
        "all",
        "--seed",
        str(seed),
        "--checks",
        ",".join(run.checks),
        "--no-shrink",
        "--workers",
        "2",
        "--request-timeout",
        "60",
        "--generation-database",
        "none",
        "--no-color",
        "--warnings",
        "off",
        "--report",
        "junit,har",
        "--report-dir",
        str(report),
        "--report-junit-path",
        str(report / "junit.xml"),
        "--report-har-path",
        str(report / "report.har"),
    ]
    if user:
        args += ["--auth-wfc-user", user]
    started = time.monotonic()
    done = subprocess.run(args, cwd=work, capture_output=True, text=True, check=False)
    run.seconds = time.monotonic() - started
    run.returncode = done.returncode
    run.output = done.stdout + done.stderr
    junit_cases, run.failures = _junit_counts(report / "junit.xml")
    run.cases = _generated(run.output) or junit_cases
    run.leaks = _leaks(report / "report.har")
    return run


# A CPython 3.11 bug crashes Hypothesis inside Schemathesis, while it describes a
# recursive strategy (arbitrary JSON bodies) deep in the stack: the fuzzer's own error,
# not a finding about kamfit. Such a run is repeated with the next seed.
TOOL_CRASH = "AST constructor recursion depth mismatch"
RETRIES = 3


def st_run_retrying(run: Run, *, seed: int, **options: Any) -> Run:
    """Run ``st run``; on the fuzzer's own crash (and no finding), try the next seed."""
    for attempt in range(RETRIES):
        run = st_run(run, seed=seed + attempt, **options)
        if run.ok or TOOL_CRASH not in run.output or run.failures > _tool_errors(run):
            break
        run.retries = attempt + 1
    return run


def _tool_errors(run: Run) -> int:
    """How many of the run's errors are the fuzzer's own crash."""
    found = re.search(r"Runtime Error: (\d+)", run.output)
    return int(found.group(1)) if found and TOOL_CRASH in run.output else 0


def fuzz(
    *, examples: int, seed: int, identities: Sequence[str] | None = None, workdir: Path
) -> Report:
    """Seed, serve and fuzz; return the report (the server is stopped afterwards)."""
    names = [name for name, *_ in IDENTITIES]
    chosen = list(identities) if identities else names
    with scratch_database() as database_url:
        data_dir = workdir / "data"
        data_dir.mkdir()
        env = production_env(data_dir, database_url) | {
            # The fuzzer sends thousands of requests a minute as one user: the rate limit
            # has its own tests.
            "KAMFIT_API_RATE": "1000000/min",
            "KAMFIT_EXPORT_RATE": "1000000/min",  # likewise the export limit
            # Production's rule: tokens work while two-factor sign-in is required.
            "KAMFIT_MFA_REQUIRED": "true",
        }
        log = workdir / "steps.log"
        kamfit = str(BIN / "kamfit")
        python = str(BIN / "python")
        _step([kamfit, "migrate", "--verbosity", "0"], env, log)
        auth_file = workdir / "identities.json"
        _step([python, "-m", "tests.security.fuzz.seed", "--out", str(auth_file)], env, log)
        schema = workdir / "openapi.json"
        _step([kamfit, "spectacular", "--format", "openapi-json", "--file", str(schema)], env, log)
        (workdir / "schemathesis.toml").write_text(f'[parameters]\norg = "{ORG}"\n', "utf-8")
        operations = sum(
            1
            for item in json.loads(schema.read_text("utf-8"))["paths"].values()
            for method in item
            if method in {"get", "post", "put", "patch", "delete"}
        )
        port = free_port()
        runs = []
        with server(env, port, workers=3, log=workdir / "server.log"):
            base = f"http://127.0.0.1:{port}"
            run_st = partial(
                st_run_retrying, schema=schema, base_url=base, auth_file=auth_file, work=workdir
            )
            for name in chosen:
                runs.append(
                    run_st(
                        Run(f"conformance {name}", CONFORMANCE),
                        user=name,
                        examples=examples,
                        seed=seed,
                        phases="examples,coverage,fuzzing,stateful",
                    )
                )
            runs.append(
                run_st(
                    Run("authorization (all)", AUTHORIZATION),
                    user=None,
                    examples=max(1, examples // 2),
                    seed=seed,
                    phases="examples,coverage,fuzzing",
                )
            )
    return Report(seed=seed, examples=examples, operations=operations, runs=runs)


def _step(args: Sequence[str], env: dict[str, str], log: Path) -> None:
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    with log.open("a", encoding="utf-8") as f:
        f.write(f"$ {' '.join(args)}\n{done.stdout}{done.stderr}\n")
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("KAMFIT_FUZZ_SEED", "2006")))
    parser.add_argument("--identity", action="append", help="only these identities' runs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kamfit-fuzz-") as tmp:
        try:
            report = fuzz(
                examples=args.examples, seed=args.seed, identities=args.identity, workdir=Path(tmp)
            )
        except RuntimeError as exc:
            server_log = Path(tmp) / "server.log"
            tail = server_log.read_text("utf-8", "replace")[-6000:] if server_log.exists() else ""
            sys.exit(f"{exc}\n{tail}")
        print(report.table())
        for run in report.runs:
            if not run.ok:
                print(f"\n--- {run.name} ---\n{run.output[-20000:]}")
                for leak in run.leaks:
                    print(f"leak: {leak}")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
