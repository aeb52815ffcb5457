"""The rating form: a rater's levels and evidence for one person, then submit or amend."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from kamfit.assessments import services
from kamfit.assessments.models import CycleStatus, FormStatus, RatingForm, Source
from kamfit.assessments.views import page
from kamfit.domain.errors import NotPermitted, ValidationError
from kamfit.frameworks.queries import get_scale
from kamfit.orgs.access import access_rater
from kamfit.orgs.decorators import org_view
from kamfit.orgs.models import Membership
from kamfit.profiles.models import Requirement
from kamfit.web.pages import org_url, show_problems

PROMPTS = {
    "C": "Evidence and achievements: what did they do, with what result?",
    "A": "Observed behaviour: the situation, what you saw them do, how often.",
    "C/A": "Evidence and observed behaviour: what they achieved, and how.",
}


def _answers(post: object, keys: list[str]) -> dict[str, services.RatingInput]:
    answers = {}
    for key in keys:
        raw = post.get(f"level-{key}", "")  # type: ignore[attr-defined]
        evidence = post.get(f"evidence-{key}", "")  # type: ignore[attr-defined]
        level = int(raw) if raw.isdecimal() else None
        if level is not None or evidence.strip():
            answers[key] = services.RatingInput(level, evidence)
    return answers


@require_http_methods(["GET", "POST"])
@org_view
def rate(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    """Fill in, save, submit or amend one rating form (only the rater's own)."""
    rater = access_rater(m, pk)
    cycle = rater.assessee.cycle
    version = cycle.profile_version
    requirements = list(
        Requirement.objects.filter(version=version, included=True)
        .select_related("competency")
        .order_by("position", "id")
    )
    keys = [r.competency.key for r in requirements]
    forms = list(RatingForm.objects.filter(rater=rater).order_by("-number"))
    latest = forms[0] if forms else None
    posted: dict[str, services.RatingInput] | None = None
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "amend":
                services.amend_form(rater, request.user, reason=request.POST.get("reason", ""))  # type: ignore[arg-type]
                messages.success(request, "A new version is open: change what needs changing.")
            else:
                posted = _answers(request.POST, keys)
                services.save_answers(
                    rater,
                    request.user,  # type: ignore[arg-type]
                    posted,
                    submit=action == "submit",
                    expected_tag=request.POST.get("tag") or None,
                )
                if action == "submit":
                    messages.success(request, "Submitted. Thank you — the form is now final.")
                    return redirect(org_url("assessments:index", m))
                messages.success(request, "Draft saved.")
            return redirect(org_url("assessments:rate", m, rater.pk))
        except (ValidationError, NotPermitted) as exc:
            show_problems(request, exc)
    current = {}
    if latest is not None:
        current = {
            r.competency.key: services.RatingInput(r.level, r.evidence)
            for r in latest.ratings.select_related("competency")
        }
    if posted is not None:
        current = posted
    scale = get_scale(version.framework_version)
    person = rater.assessee.person
    return page(
        request,
        m,
        "assessments/rate.html",
        {
            "rater": rater,
            "person": person,
            "cycle": cycle,
            "is_self": rater.source == Source.SELF,
            "scale": scale,
            "items": [
                {
                    "req": r,
                    "key": r.competency.key,
                    "prompt": PROMPTS.get(r.competency.kind, PROMPTS["C"]),
                    "answer": current.get(r.competency.key),
                }
                for r in requirements
            ],
            "latest": latest,
            "tag": services.form_tag(latest),
            "versions": forms,
            "editable": cycle.status == CycleStatus.OPEN
            and (latest is None or latest.status == FormStatus.DRAFT),
            "may_amend": cycle.status == CycleStatus.OPEN
            and latest is not None
            and latest.status == FormStatus.SUBMITTED,
            "fv": version.framework_version,
        },
    )
