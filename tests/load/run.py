"""``make bench-load``: 50 users against ``kamfit serve --production``, then the ledger check.

    python -m tests.load.run --database sqlite|postgres [--users 50] [--spawn-rate 10]
                             [--duration 3m] [--workers 3] [--keep]

SQLite runs in a fresh ``mktemp`` data directory; PostgreSQL uses the empty database
``DATABASE_URL`` names (``scripts/with-postgres`` makes one). The run migrates, seeds
(:mod:`tests.load.seed`), starts gunicorn on a free loopback port with production
settings, waits for ``/healthz``, runs locust headless (:mod:`tests.load.locustfile`),
compares the client's write ledger with the database (:mod:`tests.load.ledger`),
samples the workers' memory, prints a table and exits 1 if a target is missed. The
server is stopped and the temporary directory removed however the run ends.

Targets (RELIABILITY T20): no 5xx, no failed request, no lost or duplicated write,
API p95 ≤ 500 ms, pages p95 ≤ 1 s. Sign-ins (``AUTH``) are reported apart: each hashes
a password on purpose (PBKDF2) and happens once per user, during the ramp-up.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
API_P95_MS = 500.0
PAGE_P95_MS = 1000.0
WARM_UP_S = 20.0
KAMFIT_SERVE = (str(BIN / "kamfit"), "serve", "--production", "--host", "127.0.0.1")
# --stop-timeout: at the end each user finishes its task, so no write is cut off mid-way.
LOCUST = (
    *(str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--only-summary", "--json"),
    *("--stop-timeout", "30", "--loglevel", "WARNING"),
)
LEDGER = (sys.executable, "-m", "tests.load.ledger")
COLLECT_STATIC = (
    "from kamfit.terminal import setup_django; setup_django(); "
    "from kamfit.cli import collect_static; collect_static()"
)  # memory is compared from this point on


@dataclass
class Targets:
    """What a run must meet; the smoke test loosens the latencies (see its docstring)."""

    api_p95_ms: float = API_P95_MS
    page_p95_ms: float = PAGE_P95_MS


@dataclass
class Group:
    """The requests of one kind (API, PAGE, AUTH)."""

    requests: int = 0
    failures: int = 0
    server_errors: int = 0
    times: list[float] = field(default_factory=list)  # every request's milliseconds
    steady: list[float] = field(default_factory=list)  # those after the last sign-in

    def percentile(self, p: float, *, whole: bool = False) -> float:
        """The p-th percentile in ms: of the steady phase, or of the whole run."""
        ordered = sorted(self.times if whole or not self.steady else self.steady)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


@dataclass
class Report:
    """Everything a run measured."""

    database: str
    users: int
    duration: str
    nice: int
    groups: dict[str, Group]
    ledger: dict[str, Any]
    memory: dict[int, list[tuple[float, int]]]
    server_tracebacks: int
    load_average: list[float]
    server_cpu_s: float  # CPU seconds the workers used (boot included)
    in_worker: dict[str, list[float]]  # milliseconds inside a worker, by group
    locust_stats: dict[str, int]
    targets: Targets

    @property
    def total(self) -> Group:
        every = Group()
        for g in self.groups.values():
            every.requests += g.requests
            every.failures += g.failures
            every.server_errors += g.server_errors
        return every

    def misses(self) -> list[str]:
        """The targets this run missed, in words (empty: all met)."""
        missed = []
        total = self.total
        if total.server_errors:
            missed.append(f"{total.server_errors} responses were 5xx")
        if total.failures:
            missed.append(f"{total.failures} requests failed")
        if self.server_tracebacks:
            missed.append(f"the server logged {self.server_tracebacks} tracebacks")
        for kind in ("lost", "duplicated", "unacknowledged", "wrong_answers"):
            if self.ledger.get(kind):
                missed.append(f"ledger: {self.ledger[kind]} {kind.replace('_', ' ')}")
        api, page = self.groups.get("API", Group()), self.groups.get("PAGE", Group())
        if api.percentile(95) > self.targets.api_p95_ms:
            missed.append(f"API p95 {api.percentile(95):.0f} ms > {self.targets.api_p95_ms:.0f}")
        if page.percentile(95) > self.targets.page_p95_ms:
            missed.append(
                f"pages p95 {page.percentile(95):.0f} ms > {self.targets.page_p95_ms:.0f}"
            )
        if not self.ledger.get("acknowledged", {}).get("saves"):
            missed.append("no write was acknowledged")
        return missed

    def memory_lines(self) -> list[str]:
        """Each worker's resident memory after warm-up and at the end."""
        lines = []
        for pid, samples in sorted(self.memory.items()):
            warm = [s for s in samples if s[0] >= WARM_UP_S] or samples
            first, last = warm[0][1], warm[-1][1]
            growth = 100 * (last - first) / first if first else 0.0
            lines.append(
                f"worker {pid}: {first / 2**20:.0f} → {last / 2**20:.0f} MiB "
                f"({growth:+.1f}%, {warm[-1][0] - warm[0][0]:.0f} s)"
            )
        return lines

    def _load_text(self) -> str:
        if not self.load_average:
            return "not sampled"
        ordered = sorted(self.load_average)
        return f"median {ordered[len(ordered) // 2]:.1f}, max {ordered[-1]:.1f}"

    def table(self) -> str:
        """The figures as a plain-text table."""
        out = [
            f"kamfit load test: {self.database}, {self.users} users, {self.duration}"
            + (f", server and locust at nice {self.nice}" if self.nice else ""),
            "",
            "latency: p50/p95/p99 of the steady phase (after the last sign-in); "
            "'run p95' over the whole run",
            f"{'':6} {'requests':>9} {'failures':>9} {'5xx':>5} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'p99 ms':>8} {'max ms':>8} {'run p95':>8}",
        ]
        for name in ("API", "PAGE", "AUTH"):
            g = self.groups.get(name, Group())
            out.append(
                f"{name:6} {g.requests:>9} {g.failures:>9} {g.server_errors:>5} "
                f"{g.percentile(50):>8.0f} {g.percentile(95):>8.0f} {g.percentile(99):>8.0f} "
                f"{max(g.steady or g.times, default=0):>8.0f} "
                f"{g.percentile(95, whole=True):>8.0f}"
            )
        t = self.total
        out.append(f"{'total':6} {t.requests:>9} {t.failures:>9} {t.server_errors:>5}")
        out.append("time inside a worker (gunicorn's access log), whole run:")
        for name in ("API", "PAGE", "AUTH"):
            inside = Group(times=self.in_worker.get(name, []))
            out.append(
                f"{name:6} {len(inside.times):>9} {'':>9} {'':>5} "
                f"{inside.percentile(50):>8.0f} {inside.percentile(95):>8.0f} "
                f"{inside.percentile(99):>8.0f} {max(inside.times, default=0):>8.0f}"
            )
        out.append(
            f"locust's own count: {self.locust_stats.get('requests', 0)} requests, "
            f"{self.locust_stats.get('failures', 0)} failures"
        )
        ack, stored = self.ledger.get("acknowledged", {}), self.ledger.get("in_database", {})
        out += [
            "",
            f"{'writes':14} {'acknowledged':>12} {'in database':>12}",
            *(
                f"{kind:14} {ack.get(kind, 0):>12} {stored.get(kind, 0):>12}"
                for kind in ("saves", "submits", "amends")
            ),
            f"forms written {self.ledger.get('forms', 0)}; lost {self.ledger.get('lost', 0)}, "
            f"duplicated {self.ledger.get('duplicated', 0)}, unacknowledged "
            f"{self.ledger.get('unacknowledged', 0)}, wrong answers "
            f"{self.ledger.get('wrong_answers', 0)}",
            *self.ledger.get("problems", [])[:10],
            "",
            "memory (RSS, from warm-up to end):",
            *self.memory_lines(),
            f"server tracebacks logged: {self.server_tracebacks}",
            f"machine load average (1 min) during the run: {self._load_text()} "
            f"on {os.cpu_count()} cores",
            f"server CPU: {self.server_cpu_s:.0f} s for {t.requests} requests = "
            f"{1000 * self.server_cpu_s / max(1, t.requests):.1f} ms per request "
            f"(sign-ins included)",
        ]
        misses = self.misses()
        out += ["", "targets: " + ("all met" if not misses else "MISSED: " + "; ".join(misses))]
        return "\n".join(out)


def free_port() -> int:
    """A free TCP port on loopback (bound and released: the usual small race is accepted)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def production_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """The environment of a production-like server and of the seeding and checking steps."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KAMFIT_", "DJANGO_", "PYTEST"))
    }
    env.pop("DATABASE_URL", None)
    alphabet = string.ascii_letters + string.digits + "!#%+-_"
    env |= {
        "DJANGO_SETTINGS_MODULE": "kamfit.web.settings",
        "KAMFIT_DEBUG": "false",
        "KAMFIT_SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "KAMFIT_ALLOWED_HOSTS": "127.0.0.1",
        "KAMFIT_SSL_REDIRECT": "false",
        # The simulated users sign in with a password; two-factor sign-in has its own
        # tests (tests/security/accounts) and would only add a step per user here.
        "KAMFIT_MFA_REQUIRED": "false",
        "KAMFIT_DATA_DIR": str(data_dir),
        "PYTHONPATH": str(ROOT),
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _run(args: Sequence[str], env: dict[str, str], log: Path) -> str:
    """Run a step; stop the whole run with its output if it fails."""
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    with log.open("a", encoding="utf-8") as f:
        f.write(f"$ {' '.join(args)}\n{done.stdout}{done.stderr}\n")
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def server(
    env: dict[str, str], port: int, workers: int, log: Path, nice: int = 0
) -> Iterator[psutil.Process]:
    """``kamfit serve --production`` on loopback; stopped (TERM, then KILL) on the way out."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*KAMFIT_SERVE, "--port", str(port), "--workers", str(workers)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_niced(nice),  # noqa: PLW1509 - only os.nice, before exec
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        yield psutil.Process(proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # gunicorn's graceful stop
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _niced(nice: int) -> Callable[[], None] | None:
    """Run a child at another CPU priority (negative needs root), or unchanged."""
    if not nice:
        return None

    def renice() -> None:
        os.nice(nice)

    return renice


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Poll ``/healthz`` until it answers 200; fail early if the server exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode} (see its log)")
        with suppress(OSError), urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            if response.status == 200:  # (a loopback http URL)
                return
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")


class MemorySampler(threading.Thread):
    """Sample the RSS of each gunicorn worker every few seconds."""

    def __init__(self, master: psutil.Process, every: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.master, self.every = master, every
        self.samples: dict[int, list[tuple[float, int]]] = {}
        self.load: list[float] = []  # the machine's 1-minute load average
        self.cpu: dict[int, float] = {}  # CPU seconds each worker used, by pid
        self.stop = threading.Event()
        self.start_time = time.monotonic()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.load.append(os.getloadavg()[0])
            with suppress(psutil.Error):
                for worker in self.master.children():
                    with suppress(psutil.Error):
                        rss = worker.memory_info().rss
                        used = worker.cpu_times()
                        now = time.monotonic() - self.start_time
                        self.samples.setdefault(worker.pid, []).append((now, rss))
                        self.cpu[worker.pid] = used.user + used.system


def read_requests(path: Path) -> dict[str, Group]:
    """The request log, grouped by the first word of each request's name.

    The steady phase starts when the last user has signed in: until then each sign-in
    hashes a password (PBKDF2, slow on purpose) and the CPU is busy with that.
    """
    groups: dict[str, Group] = {}
    if not path.exists():
        return groups
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    signed_in = max((r["t"] for r in rows if r["name"] == "AUTH login"), default=0.0)
    for r in rows:
        g = groups.setdefault(r["group"], Group())
        g.requests += 1
        g.times.append(r["ms"])
        if r["t"] - r["ms"] / 1000 >= signed_in:
            g.steady.append(r["ms"])
        g.failures += r["error"] is not None
        g.server_errors += r["status"] >= 500
    return groups


ACCESS_LINE = re.compile(r'"(?:GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/[\d.]+" \d+ .* (\d+)ms$')


SERVER_ERROR = re.compile(r'HTTP/[\d.]+" 5\d\d |Error')


def server_times(log_text: str) -> dict[str, list[float]]:
    """Milliseconds each request spent in a worker, from the access log, by group.

    Beside the client's figures they show how much of the latency was waiting for a free
    worker (the listen queue) rather than work.
    """
    times: dict[str, list[float]] = {"API": [], "PAGE": [], "AUTH": []}
    for line in log_text.splitlines():
        match = ACCESS_LINE.search(line)
        if match is None or match.group(1).startswith("/healthz"):
            continue
        path = match.group(1)
        group = (
            "API" if path.startswith("/api/") else "AUTH" if path.startswith("/login") else "PAGE"
        )
        times[group].append(float(match.group(2)))
    return times


def _locust_totals(text: str) -> dict[str, int]:
    try:
        stats = json.loads(text)
    except ValueError:
        return {}
    return {
        "requests": sum(s.get("num_requests", 0) for s in stats),
        "failures": sum(s.get("num_failures", 0) for s in stats),
    }


def run_load(
    *,
    database: str,
    users: int = 50,
    spawn_rate: float = 10,
    duration: str = "3m",
    workers: int = 3,
    database_url: str | None = None,
    targets: Targets | None = None,
    keep: bool = False,
    nice: int = 0,
) -> Report:
    """Run the whole load test; return its report (the caller decides pass or fail)."""
    if database == "postgres":
        database_url = database_url or os.environ.get("DATABASE_URL")
        if not database_url or not database_url.startswith(("postgres", "postgresql")):
            raise RuntimeError("--database postgres needs DATABASE_URL (scripts/with-postgres)")
    else:
        database_url = None
    tmp = Path(tempfile.mkdtemp(prefix="kamfit-load-"))
    try:
        env = production_env(tmp / "data", database_url)
        log = tmp / "steps.log"
        manifest, ledger, requests = (
            tmp / "manifest.json",
            tmp / "ledger.jsonl",
            tmp / "requests.jsonl",
        )
        # Compressing the static files takes a minute or more of CPU: in parallel.
        static = subprocess.Popen(
            [sys.executable, "-c", COLLECT_STATIC],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        _run([str(BIN / "kamfit"), "migrate", "--noinput"], env, log)
        _run(
            [
                sys.executable,
                "-m",
                "tests.load.seed",
                "--users",
                str(users),
                "--out",
                str(manifest),
            ],
            env,
            log,
        )
        _, static_errors = static.communicate()
        if static.returncode:
            raise RuntimeError(f"collecting the static files failed:\n{static_errors}")
        server_log = tmp / "server.log"
        port = free_port()
        with server(env, port, workers, server_log, nice) as master:
            sampler = MemorySampler(master)
            sampler.start()
            locust_env = env | {
                "KAMFIT_LOAD_MANIFEST": str(manifest),
                "KAMFIT_LOAD_LEDGER": str(ledger),
                "KAMFIT_LOAD_REQUESTS": str(requests),
            }
            locust = subprocess.run(
                [
                    *LOCUST,
                    *("-u", str(users), "-r", str(spawn_rate), "-t", duration),
                    *("--host", f"http://127.0.0.1:{port}"),
                ],
                env=locust_env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
                preexec_fn=_niced(nice),
            )
            (tmp / "locust.log").write_text(locust.stderr, "utf-8")
            sampler.stop.set()
            sampler.join()
        checked = json.loads(
            _run(
                [*LEDGER, "--manifest", str(manifest), "--ledger", str(ledger)],
                env,
                log,
            )
        )
        server_text = server_log.read_text("utf-8", errors="replace")
        report = Report(
            database=database,
            users=users,
            duration=duration,
            nice=nice,
            groups=read_requests(requests),
            ledger=checked,
            memory=sampler.samples,
            server_tracebacks=server_text.count("Traceback (most recent call last)"),
            load_average=sampler.load,
            server_cpu_s=sum(sampler.cpu.values()),
            in_worker=server_times(server_text),
            locust_stats=_locust_totals(locust.stdout),
            targets=targets or Targets(),
        )
        if report.misses() or keep:
            sys.stderr.write(f"logs kept in {tmp}\n" if keep else _tail(tmp))
        return report
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def _tail(tmp: Path) -> str:
    """The end of the server's and locust's logs, to see why a run missed a target."""
    parts = []
    for name in ("server.log", "locust.log"):
        path = tmp / name
        if path.exists():
            lines = path.read_text("utf-8", errors="replace").splitlines()
            errors = [ln for ln in lines if SERVER_ERROR.search(ln) or "Traceback" in ln]
            parts.append(f"--- {name}: last error lines\n" + "\n".join(errors[-20:]))
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load-test kamfit serve --production.")
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", default="3m", help="locust's -t: 20s, 3m, 1h30m")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--keep", action="store_true", help="keep the logs and data directory")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run the server and locust at this CPU priority, e.g. -10 (as root) on a "
        "machine shared with other jobs",
    )
    args = parser.parse_args(argv)
    report = run_load(
        database=args.database,
        users=args.users,
        spawn_rate=args.spawn_rate,
        duration=args.duration,
        workers=args.workers,
        keep=args.keep,
        nice=args.nice,
    )
    print(report.table())
    sys.exit(1 if report.misses() else 0)


if __name__ == "__main__":
    main()
