"""Pages to run a weighting exercise: open, invite, answer, read the results, adopt."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kamfit.domain import weighting
from kamfit.domain.errors import NotPermitted, Problem, ValidationError
from kamfit.orgs.access import (
    access_exercise,
    access_own_participation,
    access_profile,
    access_profile_version,
)
from kamfit.orgs.decorators import org_view
from kamfit.orgs.models import Membership
from kamfit.orgs.permissions import MANAGE_WEIGHTING, may
from kamfit.profiles import services
from kamfit.profiles.models import Function, Method, WeightingExercise
from kamfit.profiles.queries import ExerciseResults, get_exercise_results
from kamfit.web.pages import org_url, show_problems

# Saaty's verbal scale; intermediate values are allowed too.
SAATY_WORDS = {
    1: "equally",
    3: "moderately",
    5: "strongly",
    7: "very strongly",
    9: "extremely",
}


@require_http_methods(["GET", "POST"])
@org_view
def exercise_new(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    version = access_profile_version(m, pk, number)  # first: another org's id is a 404
    if not may(m.role, MANAGE_WEIGHTING):
        raise PermissionDenied("Your role may not run weighting exercises.")
    n_items = version.requirements.filter(included=True).count()
    kinds = list(
        version.requirements.filter(included=True).values_list("competency__kind", flat=True)
    )
    pairs = weighting.ahp_pair_count(weighting.ahp_groups(kinds)) if len(kinds) >= 2 else 0
    if request.method == "POST":
        try:
            exercise = services.open_exercise(
                organisation=m.organisation,
                user=m.user,
                version=version,
                title=request.POST.get("title", ""),
                method=request.POST.get("method", ""),
                total_points=request.POST.get("total_points") or 100,
            )
        except ValidationError as exc:
            show_problems(request, exc)
        else:
            messages.success(request, f"Opened “{exercise.title}”. Now invite the stakeholders.")
            return redirect(org_url("profiles:exercise", m, exercise.pk))
    return render(
        request,
        "profiles/exercise_new.html",
        {
            "membership": m,
            "org": m.organisation,
            "version": version,
            "fv": version.framework_version,
            "methods": Method.choices,
            "n_items": n_items,
            "all_pairs": n_items * (n_items - 1) // 2,
            "ahp_pairs": pairs,
            "posted": request.POST,
        },
    )


@require_GET
@org_view
def exercise_detail(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    exercise = access_exercise(m, pk)
    results = get_exercise_results(exercise)
    invited = {p.user_id for p in results.participants}
    members = [
        u
        for u in get_user_model()
        .objects.filter(memberships__organisation=exercise.organisation)
        .order_by("username")
        if u.pk not in invited
    ]
    return render(
        request,
        "profiles/exercise_detail.html",
        {
            "membership": m,
            "org": m.organisation,
            "exercise": exercise,
            "fv": exercise.profile_version.framework_version,
            "r": results,
            "members": members,
            "functions": Function.choices,
            "mine": next((p for p in results.participants if p.user_id == m.user_id), None),
        },
    )


@require_POST
@org_view
def exercise_invite(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    exercise = access_exercise(m, pk)
    try:
        if request.POST.get("remove"):
            services.remove_participant(exercise, request.POST["remove"])
            messages.success(request, "Withdrew the invitation.")
        else:
            user = (
                get_user_model()
                .objects.filter(memberships__organisation=exercise.organisation)
                .filter(pk=int(request.POST.get("user") or 0))
                .first()
            )
            if user is None:
                raise ValidationError([Problem("user", "choose a member of this organisation")])
            services.invite_participants(exercise, [(user, request.POST.get("function", ""))])
            messages.success(request, f"Invited {user.get_username()}.")
    except (ValidationError, NotPermitted) as exc:
        show_problems(request, exc)
    except ValueError:
        messages.error(request, "user: choose a member of this organisation")
    return redirect(org_url("profiles:exercise", m, exercise.pk))


@require_POST
@org_view
def exercise_close(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    exercise = access_exercise(m, pk)
    try:
        services.close_exercise(exercise)
    except NotPermitted as exc:
        show_problems(request, exc)
    else:
        messages.success(request, "Closed the exercise: no more answers.")
    return redirect(org_url("profiles:exercise", m, exercise.pk))


@require_POST
@org_view
def exercise_adopt(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    exercise = access_exercise(m, pk)
    access_profile(m, exercise.profile_version.profile_id, action="edit")
    try:
        draft = services.adopt_consensus(exercise, m.user)
    except (ValidationError, NotPermitted) as exc:
        show_problems(request, exc)
        return redirect(org_url("profiles:results", m, exercise.pk))
    messages.success(
        request,
        f"Adopted the consensus weights into draft version {draft.number}. "
        "Review them and publish the version.",
    )
    return redirect(draft.get_absolute_url() + "#requirements")


def _fraction_label(value: float) -> str:
    return str(Fraction(value).limit_denominator(9))


def _ahp_choices() -> list[tuple[str, int, str]]:
    """(value, intensity, side) from 'left extremely more' through 'equal' to 'right …'."""
    left = [(str(v), v, "left") for v in range(9, 1, -1)]
    right = [(f"1/{v}", v, "right") for v in range(2, 10)]
    return [*left, ("1", 1, "equal"), *right]


def _ahp_pairs(exercise: WeightingExercise, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The pairs to judge, grouped, with the saved value of each."""
    names = [item["name"] for item in exercise.items]
    blocks = []
    groups = services.exercise_groups(exercise)
    if len(groups) > 1:
        saved = answers.get(weighting.GROUPS_KEY, {})
        pairs = [
            {
                "field": f"p-{weighting.GROUPS_KEY}-{i}-{j}",
                "left": groups[i].label,
                "right": groups[j].label,
                "value": _fraction_label(saved[f"{i}-{j}"]) if f"{i}-{j}" in saved else "",
            }
            for i in range(len(groups))
            for j in range(i + 1, len(groups))
        ]
        legend = [(g.label, [names[i] for i in g.members]) for g in groups]
        blocks.append(
            {"label": "Groups against each other", "pairs": pairs, "groups": True, "legend": legend}
        )
    for g in groups:
        saved = answers.get(g.key, {})
        pairs = [
            {
                "field": f"p-{g.key}-{i}-{j}",
                "left": names[g.members[i]],
                "right": names[g.members[j]],
                "value": _fraction_label(saved[f"{i}-{j}"]) if f"{i}-{j}" in saved else "",
            }
            for i in range(len(g.members))
            for j in range(i + 1, len(g.members))
        ]
        if pairs:
            blocks.append({"label": g.label, "pairs": pairs, "groups": False})
    return blocks


def _answers_from_post(exercise: WeightingExercise, post: Any) -> dict[str, Any]:
    if exercise.method in (Method.POINTS, Method.RANKING):
        return {item["key"]: post.get(f"v-{item['key']}", "") for item in exercise.items}
    answers: dict[str, dict[str, float]] = {}
    problems = []
    for name, raw in post.items():
        if not name.startswith("p-") or raw == "":
            continue
        try:
            _, group, i, j = name.split("-")
            value = float(Fraction(raw))
        except (ValueError, ZeroDivisionError):
            problems.append(f"{name}: not a judgement")
            continue
        answers.setdefault(group, {})[f"{int(i)}-{int(j)}"] = value
    if problems:
        raise ValidationError([Problem("answers", p) for p in problems])
    return answers


@require_http_methods(["GET", "POST"])
@org_view
def exercise_answer(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    participant = access_own_participation(m, pk)
    exercise = participant.exercise
    if request.method == "POST":
        submit = bool(request.POST.get("submit"))
        try:
            services.save_answers(
                participant, _answers_from_post(exercise, request.POST), submit=submit
            )
        except (ValidationError, NotPermitted) as exc:
            show_problems(request, exc)
        else:
            if submit:
                messages.success(request, "Submitted your weights. Thank you.")
                return redirect(org_url("profiles:list", m))
            messages.success(request, "Saved. Come back any time before you submit.")
        return redirect(org_url("profiles:answer", m, exercise.pk))
    participant.refresh_from_db()
    answers = participant.answers or {}
    items = [{**item, "value": answers.get(item["key"], "")} for item in exercise.items]
    given = sum(float(v) for v in answers.values() if isinstance(v, int | float))
    return render(
        request,
        "profiles/exercise_answer.html",
        {
            "membership": m,
            "org": m.organisation,
            "exercise": exercise,
            "fv": exercise.profile_version.framework_version,
            "participant": participant,
            "items": items,
            "given": given,
            "blocks": _ahp_pairs(exercise, answers) if exercise.method == Method.AHP else [],
            "choices": _ahp_choices(),
            "words": SAATY_WORDS,
            "readonly": participant.is_submitted or not exercise.is_open,
        },
    )


def _agreement_words(w: float) -> str:
    """Schmidt's (1997) reading of Kendall's W."""
    if w < 0.1:
        return "very weak"
    if w < 0.3:
        return "weak"
    if w < 0.5:
        return "moderate"
    if w < 0.7:
        return "strong"
    return "unusually strong"


def _results_table(r: ExerciseResults) -> list[dict[str, Any]]:
    outcome = r.outcome
    if outcome is None:
        return []
    rows = []
    for i, item in enumerate(r.exercise.items):
        rows.append(
            {
                "item": item,
                "consensus": outcome.consensus[i] * 100,
                "spread": outcome.spread[i] * 100,
                "individual": [row[i] * 100 for row in outcome.individual],
            }
        )
    rows.sort(key=lambda row: -row["consensus"])
    return rows


@require_GET
@org_view
def exercise_results(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    exercise = access_exercise(m, pk)
    r = get_exercise_results(exercise)
    outcome = r.outcome
    splits = (
        [
            {"item": exercise.items[i], "spread": outcome.spread[i] * 100}
            for i in outcome.split_order[:5]
        ]
        if outcome
        else []
    )
    consistency = list(zip(r.submitted, outcome.consistency, strict=True)) if outcome else []
    return render(
        request,
        "profiles/exercise_results.html",
        {
            "membership": m,
            "org": m.organisation,
            "exercise": exercise,
            "fv": exercise.profile_version.framework_version,
            "r": r,
            "outcome": outcome,
            "rows": _results_table(r),
            "splits": splits,
            "consistency": consistency,
            "cr_threshold": weighting.CR_THRESHOLD,
            "agreement_words": _agreement_words(outcome.agreement.w)
            if outcome and outcome.agreement
            else "",
        },
    )
