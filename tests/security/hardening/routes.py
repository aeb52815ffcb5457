"""Every named URL pattern of kamfit, with its arguments filled from real objects.

The header, CSRF and safe-method checks walk the same list: each route of the URL
resolver (Django admin only where it takes no argument) with keyword arguments that
name real objects of organisation A, so that most answers are real pages rather than
404s. A route this module cannot fill gets ids that do not exist: its 404 answer must
still carry the hardened headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kamfit.assessments import services as assessment_services
from kamfit.audits import services as audit_services
from kamfit.development import services as development_services
from kamfit.jobs import services as job_services
from kamfit.orgs.models import Membership, Role
from kamfit.profiles import services as profile_services
from kamfit.profiles.models import Method
from tests.conftest import Team

MISSING = 999_999  # an id no fixture reaches
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    """A named URL pattern and its parameter names."""

    name: str
    pattern: str
    params: tuple[str, ...]


def all_routes() -> list[Route]:
    """Every named route, admin pages with arguments left out (they are Django's own)."""
    routes = []
    for name, pattern in _walk(get_resolver().url_patterns, "", ""):
        params = tuple(_PARAM.findall(pattern))
        if name.startswith("admin:") and params:
            continue
        routes.append(Route(name, pattern, params))
    return routes


def _walk(patterns: Sequence[object], prefix: str, ns: str) -> Iterator[tuple[str, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = ns + (f"{p.namespace}:" if p.namespace else "")
            yield from _walk(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern) and p.name:
            yield ns + p.name, prefix + str(p.pattern)


@dataclass(frozen=True)
class World:
    """Ids of real objects of organisation A, by what a URL calls them."""

    org: str
    framework: int
    profile: int
    profile_number: int
    person: int
    cycle: int
    rating_form: int
    rater: int
    audit: int
    exercise: int
    plan: int
    plan_action: int
    job: int
    membership: int


def build_world(team: Team) -> World:
    """Create one object of each kind the routes name, in organisation A."""
    side = team.side
    hr, director = side.users[Role.HR], side.users[Role.DIRECTOR]
    peer = team.peers[0]
    rater = team.rater(team.kam, peer)
    form = assessment_services.draft_form(rater, peer)
    audit = audit_services.open_audit(
        organisation=side.org,
        user=director,
        version=side.published,
        title="Readiness",
        element_keys=["credibility"],
    )
    exercise = profile_services.open_exercise(
        organisation=side.org,
        user=director,
        version=team.profile,
        title="Weights",
        method=Method.values[0],
    )
    plan = development_services.create_plan(team.assessee(team.kam), hr)
    action = plan.actions.first()
    job = job_services.start_team_report(cycle=team.cycle, actor=hr, fmt="csv")
    membership = Membership.objects.get(organisation=side.org, user=side.users[Role.PARTICIPANT])
    return World(
        org=side.org.slug,
        framework=side.framework.pk,
        profile=team.profile.profile_id,
        profile_number=team.profile.number,
        person=team.kam.pk,
        cycle=team.cycle.pk,
        rating_form=form.pk,
        rater=rater.pk,
        audit=audit.pk,
        exercise=exercise.pk,
        plan=plan.pk,
        plan_action=action.pk if action else MISSING,
        job=job.pk,
        membership=membership.pk,
    )


# Which object a route's ``pk`` names, by the route's name (first match wins).
_PK_OF = (
    (r"^(frameworks:|api:(framework|version))", "framework"),
    (r"^profiles:(exercise$|exercise_|results|adopt|answer)", "exercise"),
    (r"^api:exercise", "exercise"),
    (r"^(profiles:|api:(profile|job-description))", "profile"),
    (r"^(assessments:(person|quick_check)|api:(person|quick-checks)|privacy:person)", "person"),
    (r"^(assessments:(cycle|team|result)|api:(cycle|ratings-import))", "cycle"),
    (r"^(assessments:rate|api:rating-form)", "rating_form"),
    (r"^(audits:|api:audit)", "audit"),
    (r"^(development:|api:plan)", "plan"),
    (r"^(jobs:|api:job$)", "job"),
    (r"^(members:(role|remove)|api:member$)", "membership"),
)
_FIXED = {
    "fmt_name": "csv",
    "what": "responses",
    "name": "people",
    "token": "no-such-token-0123456789",
    "uidb64": "MQ",
}


def route_kwargs(route: Route, world: World) -> dict[str, object]:
    """Fill a route's parameters with ids of real objects where a rule names them."""
    kwargs: dict[str, object] = {}
    for param in route.params:
        kwargs[param] = _value(route.name, param, world)
    return kwargs


def _pk(name: str, world: World) -> object:
    for rule, attribute in _PK_OF:
        if re.search(rule, name):
            return getattr(world, attribute)
    return MISSING


def _value(name: str, param: str, world: World) -> object:
    rules: dict[str, Callable[[], object]] = {
        "org": lambda: world.org,
        "pk": lambda: _pk(name, world),
        "number": lambda: world.profile_number if "profile" in name or "job" in name else 1,
        "person": lambda: world.person,
        "rater": lambda: world.rater,
        "action": lambda: world.plan_action,
        "key": lambda: "analytical" if "competenc" in name else "credibility",
        "fmt": lambda: (
            "pdf" if name.endswith("jd_file") else ("csv" if "audit" in name else "json")
        ),
    }
    if param in rules:
        return rules[param]()
    return _FIXED.get(param) or MISSING


def url_of(route: Route, world: World) -> str:
    """The route's URL, with its parameters filled."""
    return reverse(route.name, kwargs=route_kwargs(route, world))
