"""Compare the load test's write ledger with the database: nothing lost, nothing doubled.

``python -m tests.load.ledger --manifest M --ledger L`` prints one JSON object. The
ledger holds every write the server acknowledged (2xx), in the order each simulated
user made them; each rating form has one writer, so that order is the server's.

For every rating form (a rater's forms, API ``rating-forms/{id}``) of a load account:

- saves: the acknowledged saves of each form version equal its ``revision`` (the
  counter each save increments); fewer in the database is a **lost** write, more is a
  write applied without acknowledgment (**unacknowledged**: the client gave up);
- submits: a version is submitted exactly when one submit of it was acknowledged; a
  second acknowledged submit is **duplicated**, a missing one **lost**;
- amendments: the versions after the first equal the acknowledged amendments;
- answers: the latest version holds exactly the answers of the last acknowledged write.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any


def read_ledger(path: Path) -> list[dict[str, Any]]:
    """The ledger's entries, in the order they were written."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _database_forms(usernames: set[str]) -> dict[int, list[dict[str, Any]]]:
    """Every form version of the load accounts' raters, by rater, oldest first."""
    from kamfit.assessments.models import Rating, RatingForm

    forms: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        RatingForm.objects.filter(rater__user__username__in=usernames)
        .select_related("rater__user")
        .order_by("rater_id", "number")
    )
    by_pk = {}
    for form in rows:
        entry: dict[str, Any] = {
            "number": form.number,
            "revision": form.revision,
            "status": form.status,
            "user": form.rater.user.username,
            "answers": {},
        }
        forms[form.rater_id].append(entry)
        by_pk[form.pk] = entry
    ratings = Rating.objects.filter(form_id__in=by_pk).select_related("competency")
    for rating in ratings.order_by("competency__key"):
        by_pk[rating.form_id]["answers"][rating.competency.key] = [rating.level, rating.evidence]
    return forms


def compare(manifest: dict[str, Any], ledger: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: PLR0912
    """Compare; return the counts and the first problems found."""
    usernames = {a["username"] for org in manifest["orgs"] for a in org["accounts"]}
    database = _database_forms(usernames)
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entry in ledger:
        events[entry["form"]].append(entry)
    result: dict[str, Any] = {
        "forms": len(set(database) | set(events)),
        "acknowledged": {"saves": 0, "submits": 0, "amends": 0},
        "in_database": {"saves": 0, "submits": 0, "amends": 0},
        "lost": 0,
        "duplicated": 0,
        "unacknowledged": 0,
        "wrong_answers": 0,
        "problems": [],
    }
    problems: list[str] = result["problems"]

    def problem(kind: str, count: int, text: str) -> None:
        result[kind] += count
        if len(problems) < 20:
            problems.append(text)

    for rater in sorted(set(database) | set(events)):
        versions = {f["number"]: f for f in database.get(rater, [])}
        mine = events.get(rater, [])
        saves: dict[int, int] = defaultdict(int)
        submits: dict[int, int] = defaultdict(int)
        revisions: dict[int, list[int]] = defaultdict(list)
        for e in mine:
            if e["kind"] in {"save", "submit"}:
                saves[e["number"]] += 1
                if e.get("revision") is not None:
                    revisions[e["number"]].append(e["revision"])
            if e["kind"] == "submit":
                submits[e["number"]] += 1
        amends = sum(1 for e in mine if e["kind"] == "amend")
        result["acknowledged"]["saves"] += sum(saves.values())
        result["acknowledged"]["submits"] += sum(submits.values())
        result["acknowledged"]["amends"] += amends
        result["in_database"]["saves"] += sum(f["revision"] for f in versions.values())
        result["in_database"]["submits"] += sum(
            1 for f in versions.values() if f["status"] == "submitted"
        )
        result["in_database"]["amends"] += sum(1 for n in versions if n > 1)
        for number in sorted(set(versions) | set(saves)):
            form = versions.get(number)
            stored = form["revision"] if form else 0
            if stored < saves[number]:
                problem(
                    "lost",
                    saves[number] - stored,
                    f"form {rater} v{number}: {saves[number]} saves acknowledged, {stored} stored",
                )
            elif stored > saves[number]:
                problem(
                    "unacknowledged",
                    stored - saves[number],
                    f"form {rater} v{number}: {stored} saves stored, {saves[number]} acknowledged",
                )
            seen = revisions[number]
            if len(seen) != len(set(seen)):
                problem(
                    "duplicated",
                    len(seen) - len(set(seen)),
                    f"form {rater} v{number}: revision acknowledged twice {seen}",
                )
            submitted = form is not None and form["status"] == "submitted"
            if submits[number] > 1:
                problem(
                    "duplicated",
                    submits[number] - 1,
                    f"form {rater} v{number}: {submits[number]} submits acknowledged",
                )
            if submits[number] and not submitted:
                problem(
                    "lost", 1, f"form {rater} v{number}: submit acknowledged, form not submitted"
                )
            if submitted and not submits[number]:
                problem(
                    "unacknowledged",
                    1,
                    f"form {rater} v{number}: submitted without an acknowledged submit",
                )
        stored_amends = sum(1 for n in versions if n > 1)
        if stored_amends < amends:
            problem(
                "lost",
                amends - stored_amends,
                f"form {rater}: {amends} amendments acknowledged, {stored_amends} stored",
            )
        elif stored_amends > amends:
            problem(
                "unacknowledged",
                stored_amends - amends,
                f"form {rater}: {stored_amends} amendments stored, {amends} acknowledged",
            )
        if mine and versions:
            last = mine[-1]
            latest = versions[max(versions)]
            if last["number"] != latest["number"] or last["answers"] != latest["answers"]:
                problem(
                    "wrong_answers",
                    1,
                    f"form {rater}: latest v{latest['number']} does not hold the answers "
                    f"last acknowledged (v{last['number']})",
                )
        if mine and any(e["user"] != f["user"] for e in mine for f in versions.values()):
            problem(
                "wrong_answers", 1, f"form {rater}: written by an account that is not its rater"
            )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--ledger", type=Path, required=True)
    args = parser.parse_args(argv)
    import django

    django.setup()
    manifest = json.loads(args.manifest.read_text("utf-8"))
    print(json.dumps(compare(manifest, read_ledger(args.ledger))))


if __name__ == "__main__":
    main()
