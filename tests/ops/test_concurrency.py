"""No lost update and one submitted version, against real gunicorn workers (RELIABILITY T16).

Two browser sessions of the same rater (two tabs, or a laptop and a phone) read the same
draft form, then save different answers at the same instant, each naming the ETag it
read in ``If-Match``: exactly one save wins and the other is told (412); the form then
holds the winner's answers. Eight sessions submitting one form at once give exactly one
submitted version, with or without ``If-Match``. The server is ``kamfit serve
--production`` with three workers on the suite's database kind (a fresh SQLite data
directory, or a scratch PostgreSQL database), so SQLite's single writer is exercised
across processes: no answer may be a 500 and the log may not mention "database is
locked".
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.load.run import ROOT, free_port, production_env, server
from tests.ops.conftest import scratch_database

TRIALS = 200
SUBMITTERS = 8
SEED = int(os.environ.get("KAMFIT_TEST_SEED", "20061"))


@dataclass
class Live:
    base: str
    org: str
    username: str
    password: str
    fresh: list[int] = field(default_factory=list)  # one per test below

    def session(self) -> requests.Session:
        """A signed-in browser session of the rater (its own cookies and CSRF token)."""
        s = requests.Session()
        login = f"{self.base}/login/"
        s.get(login, timeout=30)
        for cookie in s.cookies:  # production cookies are Secure; this is http on loopback
            cookie.secure = False
        token = s.cookies.get("__Host-csrftoken") or ""
        done = s.post(
            login,
            data={"username": self.username, "password": self.password},
            headers={"X-CSRFToken": token, "Referer": login},
            allow_redirects=False,
            timeout=30,
        )
        assert done.status_code == 302, done.text[:300]
        for cookie in s.cookies:  # production cookies are Secure; this is http on loopback
            cookie.secure = False
        s.headers["X-CSRFToken"] = s.cookies.get("__Host-csrftoken") or ""
        s.headers["Referer"] = f"{self.base}/"
        return s

    def form_url(self, form: int) -> str:
        return f"{self.base}/api/v1/organisations/{self.org}/rating-forms/{form}/"

    def forms(self) -> list[int]:
        """The rater's forms nobody has started yet (read once, before the tests)."""
        mine = self.session().get(
            f"{self.base}/api/v1/organisations/{self.org}/rating-forms/mine/", timeout=30
        )
        assert mine.status_code == 200, mine.text[:300]
        return [row["id"] for row in mine.json() if row["status"] == "not_started"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A production server on a seeded database of its own, for this module."""
    with scratch_database() as database_url:
        tmp = tmp_path_factory.mktemp("concurrency")
        env = production_env(tmp / "data", database_url) | {"KAMFIT_API_RATE": "100000/min"}
        log = tmp / "server.log"
        bin_dir = Path(sys.executable).parent
        for args in (
            [str(bin_dir / "kamfit"), "migrate", "--noinput", "-v0"],
            [sys.executable, "-m", "tests.load.seed", "--users", "6", "--out", str(tmp / "m.json")],
        ):
            done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, check=False)
            assert done.returncode == 0, done.stderr.decode()[-2000:]
        manifest = json.loads((tmp / "m.json").read_text("utf-8"))
        port = free_port()
        with server(env, port, workers=3, log=log):
            base = f"http://127.0.0.1:{port}"
            candidates = (
                Live(base, org["slug"], account["username"], manifest["password"])
                for org in manifest["orgs"]
                for account in org["accounts"]
            )
            live = next(c for c in candidates if len(c.forms()) >= 3)  # a rater with 3 forms
            live.fresh = live.forms()
            yield live
        text = log.read_text("utf-8", errors="replace")
        assert "database is locked" not in text
        assert "Traceback" not in text


def together(n: int, action: Callable[[int], requests.Response]) -> list[requests.Response]:
    """Run ``action(i)`` in ``n`` threads released at the same instant by a barrier."""
    barrier = threading.Barrier(n)
    answers: list[requests.Response | None] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = action(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(a is not None for a in answers), "a request never came back"
    return [a for a in answers if a is not None]


def _answers(keys: list[str], level: int, who: str) -> dict[str, Any]:
    return {k: {"level": level, "evidence": f"{who}: led the account review"} for k in keys}


def test_of_two_saves_of_the_same_form_exactly_one_wins(live: Live) -> None:
    rng = random.Random(SEED)  # noqa: S311 - seeded test data, not secrets
    form = live.fresh[0]
    url = live.form_url(form)
    tabs = [live.session(), live.session()]
    keys = [r["key"] for r in tabs[0].get(url, timeout=30).json()["requirements"]]
    outcomes: list[tuple[int, int]] = []
    for trial in range(TRIALS):
        etags = [tab.get(url, timeout=30).headers["ETag"] for tab in tabs]
        assert etags[0] == etags[1]
        levels = rng.sample(range(1, 6), 2)

        def save(
            i: int, levels: list[int] = levels, etag: str = etags[0], trial: int = trial
        ) -> requests.Response:
            body = {"answers": _answers(keys, levels[i], f"tab {i} trial {trial}")}
            return tabs[i].put(url, json=body, headers={"If-Match": etag}, timeout=60)

        answers = together(2, save)
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 412], [a.text[:200] for a in answers]
        winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
        final = tabs[1 - winner].get(url, timeout=30).json()
        assert {r["level"] for r in final["requirements"]} == {levels[winner]}
        assert final["requirements"][0]["evidence"].startswith(f"tab {winner} trial {trial}")
        outcomes.append((winner, trial))
    assert len(outcomes) == TRIALS
    saved = tabs[0].get(url, timeout=30).json()
    assert saved["tag"] == f"1.{TRIALS}"  # every acknowledged save counted once, no other


@pytest.mark.parametrize("if_match", [True, False], ids=["if-match", "no-if-match"])
def test_eight_simultaneous_submits_give_one_submitted_version(live: Live, if_match: bool) -> None:
    form = live.fresh[1 if if_match else 2]
    url = live.form_url(form)
    sessions = [live.session() for _ in range(SUBMITTERS)]
    first = sessions[0].get(url, timeout=30)
    keys = [r["key"] for r in first.json()["requirements"]]
    headers = {"If-Match": first.headers["ETag"]} if if_match else {}

    def submit(i: int) -> requests.Response:
        body: dict[str, Any] = {"answers": _answers(keys, i % 5 + 1, f"session {i}")}
        body["submit"] = True
        return sessions[i].put(url, json=body, headers=headers, timeout=60)

    answers = together(SUBMITTERS, submit)
    codes = sorted(a.status_code for a in answers)
    refused = 412 if if_match else 409
    assert codes == [200] + [refused] * (SUBMITTERS - 1), [a.text[:200] for a in answers]
    winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
    final = sessions[0].get(url, timeout=30).json()
    assert (final["number"], final["rater"]["status"]) == (1, "submitted")
    assert {r["level"] for r in final["requirements"]} == {winner % 5 + 1}
