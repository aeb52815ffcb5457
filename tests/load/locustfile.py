"""The load test's simulated users: 80% page and API reads, 20% rating-form writes.

Run by :mod:`tests.load.run`, which passes three paths in the environment:
``KAMFIT_LOAD_MANIFEST`` (from :mod:`tests.load.seed`), ``KAMFIT_LOAD_LEDGER`` (every
acknowledged write, one JSON line each) and ``KAMFIT_LOAD_REQUESTS`` (every request:
group, name, status, milliseconds, error).

Each simulated user signs in once, through the login page, as its own account (one
account per user, so each rating form has one writer and the ledger's order is the
server's). The session then carries both pages and API calls: the API's basic
authentication would hash the password again on every request (PBKDF2, hundreds of
milliseconds on purpose). Production cookies are ``Secure``; the run talks plain HTTP
on loopback, so the client clears that flag on its own copy of the cookies and sends
them back, as a browser behind the TLS proxy would. Nothing on the server is relaxed
for the test.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from collections.abc import Iterator
from typing import Any

from locust import HttpUser, between, events, task

MANIFEST = json.loads(open(os.environ["KAMFIT_LOAD_MANIFEST"], encoding="utf-8").read())  # noqa: SIM115
LEDGER = open(os.environ["KAMFIT_LOAD_LEDGER"], "a", encoding="utf-8", buffering=1)  # noqa: SIM115
REQUESTS = open(os.environ["KAMFIT_LOAD_REQUESTS"], "a", encoding="utf-8", buffering=1)  # noqa: SIM115
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
RNG = random.Random()  # noqa: S311 - simulated users' choices, not secrets
SUBMIT_SHARE = 0.15  # of writes: submits (the rest are draft saves)


def _interleaved() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Accounts alternating between the organisations, so any number of users spans both."""
    per_org = [[(org, a) for a in org["accounts"]] for org in MANIFEST["orgs"]]
    for group in itertools.zip_longest(*per_org):
        yield from (pair for pair in group if pair is not None)


ACCOUNTS = _interleaved()


@events.request.add_listener  # type: ignore[untyped-decorator]
def _log_request(  # noqa: PLR0917 - locust's event signature
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    exception: BaseException | None = None,
    **kwargs: Any,
) -> None:
    status = getattr(response, "status_code", 0) or 0
    REQUESTS.write(
        json.dumps(
            {
                "name": name,
                "group": name.split(" ", 1)[0],
                "status": status,
                "ms": round(response_time, 2),
                "t": round(time.time(), 3),
                "error": None if exception is None else str(exception)[:200],
            }
        )
        + "\n"
    )


def _normalised(answers: dict[str, dict[str, Any]]) -> dict[str, list[Any]]:
    """Answers as the server keeps them: only those with a level or evidence, evidence trimmed."""
    return {
        key: [a["level"], a["evidence"].strip()]
        for key, a in sorted(answers.items())
        if a["level"] is not None or a["evidence"].strip()
    }


def _revision(body: dict[str, Any]) -> int | None:
    """The saves of this form version, from its tag ``number.saves`` (None: no tag yet)."""
    number, _, saves = str(body.get("tag") or "").partition(".")
    return int(saves) if number.isdigit() and saves.isdigit() else None


class Member(HttpUser):
    """A member of one organisation: reads pages and the API, fills in rating forms."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        self._accept_secure_cookies_over_http()
        try:
            self.org, self.account = next(ACCOUNTS)
        except StopIteration:
            raise RuntimeError("more users than seeded accounts: seed with --users N") from None
        self.slug = self.org["slug"]
        self.cycle = self.org["cycle"]
        self.forms: dict[int, dict[str, Any]] = {}  # rater id -> what this user knows of it
        self.writes = 0
        self._login()
        self._load_assignments()

    # --- helpers ---------------------------------------------------------------------------

    def _accept_secure_cookies_over_http(self) -> None:
        """Send the session and CSRF cookies back over plain HTTP, as a browser behind TLS would.

        requests never returns a ``Secure`` cookie to an ``http://`` URL (and copies the
        jar for each request, so a cookie policy set on it is not used): the client
        clears the flag on its own copy of the cookies after each response.
        """
        send = self.client.request

        def request(*args: Any, **kwargs: Any) -> Any:
            response = send(*args, **kwargs)
            for cookie in self.client.cookies:
                cookie.secure = False
            return response

        self.client.request = request  # type: ignore[method-assign]

    def _get(self, url: str, name: str) -> Any:
        """A read that must answer 200 itself (a redirect to the login page is a failure)."""
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"answered {r.status_code}")
            return r

    def _login(self) -> None:
        page = self._get("/login/", "AUTH login page")
        match = CSRF_FIELD.search(page.text)
        with self.client.post(
            "/login/",
            data={
                "username": self.account["username"],
                "password": MANIFEST["password"],
                "csrfmiddlewaretoken": match.group(1) if match else "",
            },
            name="AUTH login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}")

    def _headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.client.cookies.get("__Host-csrftoken") or ""}

    def _api(self, path: str) -> str:
        return f"/api/v1/organisations/{self.slug}/{path}"

    def _page(self, path: str) -> str:
        return f"/o/{self.slug}/{path}"

    def _load_assignments(self) -> None:
        response = self._get(self._api("rating-forms/mine/"), "API forms mine")
        if response.ok:
            for row in response.json():
                self.forms[row["id"]] = {"status": row["status"], "etag": None, "keys": None}

    def _read_form(self, rater: int) -> dict[str, Any] | None:
        response = self._get(self._api(f"rating-forms/{rater}/"), "API rating form")
        if not response.ok:
            return None
        return self._remember(rater, response)

    def _remember(self, rater: int, response: Any) -> dict[str, Any]:
        body: dict[str, Any] = response.json()
        state = self.forms.setdefault(rater, {})
        state["status"] = body["rater"]["status"]
        state["etag"] = response.headers.get("ETag")
        state["keys"] = [r["key"] for r in body["requirements"]]
        state["levels"] = len(body["scale"])
        state["stale"] = False
        return body

    # --- reads: 80 ------------------------------------------------------------------------

    @task(10)
    def people_page(self) -> None:
        self._get(self._page("people/"), "PAGE people")

    @task(8)
    def cycle_page(self) -> None:
        if self.account["manage"]:
            self._get(self._page(f"assessments/{self.cycle}/"), "PAGE cycle")
        else:
            self._get(self._page("assessments/forms/"), "PAGE my forms")

    @task(8)
    def team_page(self) -> None:
        if self.account["manage"]:
            self._get(self._page(f"assessments/{self.cycle}/team/"), "PAGE team")
        elif self.account["person"]:
            self._get(self._page(f"people/{self.account['person']}/"), "PAGE person")
        else:
            self._get(self._page("assessments/"), "PAGE assessments")

    @task(8)
    def result_page(self) -> None:
        if self.account["results"]:
            person = RNG.choice(self.account["results"])
            url = self._page(f"assessments/{self.cycle}/people/{person}/")
            self._get(url, "PAGE result")
        else:
            self.rate_page()

    @task(10)
    def rate_page(self) -> None:
        if self.forms:
            rater = RNG.choice(list(self.forms))
            self._get(self._page(f"assessments/rate/{rater}/"), "PAGE rate")

    @task(8)
    def api_people(self) -> None:
        self._get(self._api("people/"), "API people")

    @task(8)
    def api_cycles(self) -> None:
        if self.account["manage"]:
            self._get(self._api("cycles/"), "API cycles")
        else:
            self._get("/api/v1/organisations/", "API organisations")

    @task(8)
    def api_forms_mine(self) -> None:
        self._get(self._api("rating-forms/mine/"), "API forms mine")

    @task(12)
    def api_form(self) -> None:
        if self.forms:
            self._read_form(RNG.choice(list(self.forms)))

    # --- writes: 20 -----------------------------------------------------------------------

    @task(20)
    def write(self) -> None:
        open_forms = [r for r, s in self.forms.items() if s.get("status") != "submitted"]
        if not open_forms and self.forms:
            self._amend(RNG.choice(list(self.forms)))
            return
        if not open_forms:
            return
        rater = RNG.choice(open_forms)
        state = self.forms[rater]
        needs_read = state.get("keys") is None or state.get("stale")
        if needs_read and self._read_form(rater) is None:
            return
        submit = RNG.random() < SUBMIT_SHARE
        self._save(rater, submit=submit)

    def _answers(self, rater: int, *, submit: bool) -> dict[str, dict[str, Any]]:
        state = self.forms[rater]
        self.writes += 1
        token = f"{self.account['username']} w{self.writes} t{time.time():.3f}"
        answers = {}
        for key in state["keys"]:
            if submit or RNG.random() < 0.7:
                level = RNG.randint(1, state["levels"]) if RNG.random() < 0.9 else None
                evidence = f"{token} {key}" if submit or RNG.random() < 0.8 else ""
                if submit and level is not None and not evidence:
                    evidence = f"{token} {key}"
                answers[key] = {"level": level, "evidence": evidence}
        if submit and all(a["level"] is None for a in answers.values()) and state["keys"]:
            answers[state["keys"][0]] = {"level": 1, "evidence": f"{token} first"}
        return answers

    def _save(self, rater: int, *, submit: bool) -> None:
        state = self.forms[rater]
        answers = self._answers(rater, submit=submit)
        headers = self._headers()
        if state.get("etag"):
            headers["If-Match"] = state["etag"]
        with self.client.put(
            self._api(f"rating-forms/{rater}/"),
            json={"answers": answers, "submit": submit},
            headers=headers,
            name="API PUT rating form (submit)" if submit else "API PUT rating form",
            catch_response=True,
        ) as response:
            if not response.ok:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                state["etag"] = None
                state["stale"] = True
                return
            body = self._remember(rater, response)
            sent = _normalised(answers)
            echoed = _normalised(
                {
                    r["key"]: {"level": r["level"], "evidence": r["evidence"]}
                    for r in body["requirements"]
                }
            )
            if echoed != sent:
                response.failure("the saved form does not show the answers just sent")
            self._record(rater, "submit" if submit else "save", response, body, sent)
        if state.get("etag") and RNG.random() < 0.1 and not submit:
            self._stale_probe(rater, headers.get("If-Match"))

    def _stale_probe(self, rater: int, old_etag: str | None) -> None:
        """Save with the tag read before the last save: the server must refuse it (412)."""
        if old_etag is None:
            return
        headers = self._headers() | {"If-Match": old_etag}
        with self.client.put(
            self._api(f"rating-forms/{rater}/"),
            json={"answers": {}, "submit": False},
            headers=headers,
            name="API PUT rating form (stale tag)",
            catch_response=True,
        ) as response:
            if response.status_code == 412:
                response.success()
            else:
                response.failure(f"a stale If-Match answered {response.status_code}, not 412")
                if response.ok:  # a lost update: the ledger must still know what the form holds
                    body = self._remember(rater, response)
                    self._record(rater, "save", response, body, {})

    def _amend(self, rater: int) -> None:
        with self.client.post(
            self._api(f"rating-forms/{rater}/amend/"),
            json={"reason": "Load test: new evidence came in"},
            headers=self._headers(),
            name="API POST rating form amend",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            body = self._remember(rater, response)
            kept = _normalised(
                {
                    r["key"]: {"level": r["level"], "evidence": r["evidence"]}
                    for r in body["requirements"]
                }
            )
            self._record(rater, "amend", response, body, kept)

    def _record(
        self, rater: int, kind: str, response: Any, body: dict[str, Any], answers: dict[str, Any]
    ) -> None:
        LEDGER.write(
            json.dumps(
                {
                    "at": time.time(),
                    "user": self.account["username"],
                    "org": self.slug,
                    "form": rater,
                    "kind": kind,
                    "number": body.get("number"),
                    "revision": _revision(body),
                    "tag": body.get("tag"),
                    "etag": response.headers.get("ETag"),
                    "status": body["rater"]["status"],
                    "answers": answers,
                }
            )
            + "\n"
        )
