"""The demo data that ``make run`` loads: the library framework and two organisations.

The demo organisation gets a published company framework, readiness audits and two role
profiles: a global account manager whose weights come from a finished AHP exercise, and a
national account manager with a points exercise still waiting for answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from kamfit.audits.models import AuditItem
from kamfit.audits.services import (
    AnswerInput,
    PaperResponse,
    close_audit,
    import_paper_answers,
    invite_member,
    open_audit,
    repeat_audit,
    save_answers,
)
from kamfit.demo_people import demo_member, load_demo_people
from kamfit.domain import framework as fw
from kamfit.domain import weighting
from kamfit.frameworks.models import Competency, FrameworkVersion, VersionStatus
from kamfit.frameworks.services import (
    copy_framework,
    install_library_framework,
    publish_version,
    update_row,
)
from kamfit.orgs.models import Membership, Organisation, Role
from kamfit.profiles import services as profiles
from kamfit.profiles.models import Function, Method, Profile, ProfileVersion, WeightingExercise
from kamfit.profiles.queries import get_profile_detail

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = ["DEMO_PASSWORD", "demo_login", "load_demo"]

DEMO_PASSWORD = "demo-kam-2006"  # noqa: S105 - a published demo password, refused in production later
DEMO_ORG = ("acme-supplies", "Acme Industrial Supplies")
OTHER_ORG = ("northwind", "Northwind Components")
DEMO_USERS = [
    ("olivia.owner", "Olivia", "Owner", Role.OWNER),
    ("hana.hr", "Hana", "Reyes", Role.HR),
    ("diego.director", "Diego", "Lindqvist", Role.DIRECTOR),
    ("mia.manager", "Mia", "Okafor", Role.MANAGER),
    ("arun.assessor", "Arun", "Patel", Role.ASSESSOR),
    ("paula.participant", "Paula", "Novak", Role.PARTICIPANT),
    ("connor.consultant", "Connor", "Walsh", Role.CONSULTANT),
]


def demo_login() -> str | None:
    """Return the demo director's username if the demo is loaded."""
    user_model = get_user_model()
    exists = user_model.objects.filter(username="diego.director").exists()
    return "diego.director" if exists else None


@transaction.atomic
def load_demo() -> list[str]:
    """Create the demo organisations, users and a published company framework, once."""
    library, _ = install_library_framework(doc=fw.shipped())
    acme, created = Organisation.objects.get_or_create(
        slug=DEMO_ORG[0], defaults={"name": DEMO_ORG[1]}
    )
    other, _ = Organisation.objects.get_or_create(
        slug=OTHER_ORG[0], defaults={"name": OTHER_ORG[1]}
    )
    user_model = get_user_model()
    names = []
    hashed = ""
    for account in DEMO_USERS:
        _user, hashed = demo_member(acme, account, password=DEMO_PASSWORD, hashed=hashed)
        names.append(account[0])
    consultant = user_model.objects.get(username="connor.consultant")
    Membership.objects.get_or_create(
        user=consultant, organisation=other, defaults={"role": Role.CONSULTANT}
    )
    if created:
        source = FrameworkVersion.objects.get(framework=library, number=1)
        director = user_model.objects.get(username="diego.director")
        company = copy_framework(
            organisation=acme, user=director, source=source, title="Acme KAM framework"
        )
        draft = company.versions.get(number=1)
        it = Competency.objects.get(version=draft, key="it-literacy")
        update_row(row=it, fields={"name": "IT and CRM literacy"})
        published = publish_version(
            version=draft, user=director, note="Adopted from Warwick 2006; CRM named"
        )
        _demo_audit(acme, published, director)
    _demo_profiles(acme)
    load_demo_people(acme, password=DEMO_PASSWORD, hashed=hashed)
    return names


DEMO_DEPARTMENTS = [  # department, respondents, how positive it tends to be (0..1)
    ("sales", 6, 0.65),
    ("kam", 5, 0.45),
    ("supply_chain", 5, 0.55),
    ("finance", 3, 0.6),
    ("senior_management", 2, 0.8),
]
DEMO_ELEMENTS = [
    "strategy",
    "relationships",
    "resources",
    "contact",
    "boundaries",
    "reporting",
    "risk",
    "capabilities",
]
# The company's side of these is weak, so an assessed KAM's gap there shows beside it.
WEAK_ELEMENTS = ("risk", "capabilities")


def _demo_audit(org: Organisation, version: FrameworkVersion, director: User) -> None:
    """A completed readiness audit, so the results page shows something real at once."""
    rng = np.random.default_rng(2006)
    audit = open_audit(
        organisation=org,
        user=director,
        version=version,
        title="KAM readiness, autumn 2026",
        element_keys=DEMO_ELEMENTS,
    )
    items = list(AuditItem.objects.filter(audit=audit))
    # Some responsibilities are weak everywhere (the paper's warning signs).
    difficulty = rng.normal(0, 0.2, len(items))
    for n, item in enumerate(items):
        if any(w in item.text for w in ("barriers", "resources", "reward")):
            difficulty[n] -= 0.35
        if item.element_key in WEAK_ELEMENTS:
            difficulty[n] -= 0.15
    members = {m.user.username: m.user for m in Membership.objects.filter(organisation=org)}
    responses = []
    for department, count, mood in DEMO_DEPARTMENTS:
        for i in range(count):
            answers = {}
            for n, item in enumerate(items):
                p = float(np.clip(mood + difficulty[n] + rng.normal(0, 0.15), 0, 1))
                roll = rng.random()
                rating = (
                    "dont_know"
                    if roll < 0.06
                    else ("good" if p > 0.66 else "fair" if p > 0.38 else "poor")
                )
                answers[item.key] = AnswerInput(rating)
            responses.append(PaperResponse(f"{department}-{i + 1}", department, answers))
    import_paper_answers(audit=audit, responses=responses)
    for username, department in (("hana.hr", "hr"), ("mia.manager", "sales")):
        respondent = invite_member(audit=audit, user=members[username], department=department)
        if username == "mia.manager":
            by_key = {i.key: i.pk for i in items}
            first = responses[0].answers
            save_answers(
                respondent=respondent,
                answers={by_key[k]: a for k, a in list(first.items())[:10]},
            )
    close_audit(audit=audit)
    spring = repeat_audit(audit=audit, user=director, title="KAM readiness, spring 2027")
    for username, department in (("mia.manager", "sales"), ("paula.participant", "kam")):
        invite_member(audit=spring, user=members[username], department=department)


# Role profiles ---------------------------------------------------------------------------

GLOBAL_TITLE = "Global account manager"
GLOBAL_ELEMENTS = [  # across the three roles of KAM: strategy, customers, implementation
    "strategy",
    "risk",
    "alignment",
    "credibility",
    "capabilities",
    "process",
    "planning",
]
GLOBAL_REMOVED = ["intelligence", "self-starter", "inquisitive", "it-literacy"]
GLOBAL_SUMMARY = (
    "Leads the company's relationship with a handful of global customers: sets the account "
    "strategy with them, aligns the supplier's functions across countries behind it and "
    "manages the risk a dependence on few large customers brings. Selling is a small part "
    "of the role; orchestrating the company's capabilities is most of it."
)
NATIONAL_TITLE = "National account manager"
NATIONAL_ELEMENTS = ["relationships", "contact", "boundaries"]
NATIONAL_SUMMARY = (
    "Looks after key customers in one country: builds the relationships, manages the "
    "contact between the two companies and gets the supplier's functions to deliver."
)
# How much each requirement matters for a global account, 1 to 9: the "true" view the
# stakeholders' weights scatter around. Unlisted requirements count 3.
GLOBAL_IMPORTANCE = {
    "strategic": 9,
    "vision-creativity": 8,
    "influencing": 8,
    "credibility-experience": 7,
    "networking": 7,
    "financially-aware": 6,
    "knowledge": 6,
    "communication": 6,
    "trustworthy": 6,
    "negotiation": 5,
    "analytical": 5,
    "calculated-risk-taking": 5,
    "reputation-for-fulfilment": 5,
    "managing-conflict": 4,
    "customer-focus": 4,
    "listening": 4,
    "problem-solving": 4,
    "drive": 4,
    "detail-management": 2,
    "delegation": 2,
}
LEVEL_5 = {"strategic", "vision-creativity", "influencing"}
LEVEL_4 = {
    "credibility-experience",
    "networking",
    "financially-aware",
    "knowledge",
    "communication",
    "trustworthy",
    "negotiation",
    "calculated-risk-taking",
    "managing-conflict",
}
NATIONAL_LEVEL_4 = {"influencing", "communication", "trustworthy", "networking"}
GLOBAL_TIME = {
    "selling": 10,
    "strategy": 25,
    "relationships": 25,
    "orchestration": 25,
    "reporting": 5,
    "development": 10,
}
NATIONAL_TIME = {  # 25% selling: above the paper's 5-10%, so the page warns
    "selling": 25,
    "strategy": 10,
    "relationships": 30,
    "orchestration": 20,
    "reporting": 10,
    "development": 5,
}
AHP_SEED = 2001


@dataclass(frozen=True)
class Stakeholder:
    """A demo stakeholder: whose view, how far it strays, how carefully they judge."""

    username: str
    function: str
    view_noise: float  # log-scale spread of their weights around the true view
    judgement_noise: float  # log-scale noise on each pairwise judgement
    tilt: Mapping[str, float]  # factor on items of a kind (C, A, C/A)


STAKEHOLDERS = [
    Stakeholder("diego.director", Function.KAM_DIRECTOR, 0.35, 0.12, {"C": 1.3}),
    Stakeholder("hana.hr", Function.HR, 0.4, 0.12, {"A": 1.5}),
    # Senior management answered in a hurry: judgements that contradict each other.
    Stakeholder("olivia.owner", Function.SENIOR_MANAGEMENT, 0.45, 0.6, {}),
    Stakeholder("mia.manager", Function.LINE_MANAGER, 0.4, 0.12, {"C/A": 1.3}),
    Stakeholder("connor.consultant", Function.OTHER, 0.3, 0.1, {}),
]


def _saaty(ratio: float) -> float:
    """Round a ratio to the nearest judgement on Saaty's scale (1/9 … 1 … 9)."""
    if ratio >= 1:
        return float(min(9, max(1, round(ratio))))
    return 1 / min(9, max(1, round(1 / ratio)))


def _ahp_judgements(
    rng: np.random.Generator,
    view: Sequence[float],
    groups: Sequence[tuple[str, Sequence[int]]],
    noise: float,
) -> dict[str, dict[str, float]]:
    """Return the pairwise judgements, as stored answers, of someone holding weights ``view``."""

    def judge(a: float, b: float) -> float:
        return _saaty(a / b * float(np.exp(rng.normal(0, noise))))

    answers = {
        key: {
            f"{i}-{j}": judge(view[members[i]], view[members[j]])
            for i in range(len(members))
            for j in range(i + 1, len(members))
        }
        for key, members in groups
        if len(members) > 1
    }
    if len(groups) > 1:
        totals = [sum(view[i] for i in members) for _, members in groups]
        answers[weighting.GROUPS_KEY] = {
            f"{g}-{h}": judge(totals[g], totals[h])
            for g in range(len(groups))
            for h in range(g + 1, len(groups))
        }
    return answers


def _demo_profiles(org: Organisation) -> None:
    """Create the two demo role profiles, each once (known by the key its title gives)."""
    version = (
        FrameworkVersion.objects.filter(framework__organisation=org, status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )
    if version is None:
        return
    memberships = Membership.objects.filter(organisation=org).select_related("user")
    members = {m.user.username: m.user for m in memberships}
    existing = set(Profile.objects.filter(organisation=org).values_list("key", flat=True))
    if slugify(GLOBAL_TITLE) not in existing:
        _global_profile(org, version, members)
    if slugify(NATIONAL_TITLE) not in existing:
        _national_profile(org, version, members)


def _set_levels(version: ProfileVersion, level_of: Mapping[str, int]) -> None:
    """Set required levels (3 unless named), keep equal weights."""
    detail = get_profile_detail(version)
    profiles.update_requirements(
        version,
        {r.competency.key: (level_of.get(r.competency.key, 3), r.weight) for r in detail.included},
    )
    profiles.equalise_weights(version)


def _global_profile(org: Organisation, fv: FrameworkVersion, members: Mapping[str, User]) -> None:
    """Publish v1 with equal weights, run an AHP exercise on it, publish its consensus as v2."""
    director = members["diego.director"]
    v1 = profiles.create_profile(
        organisation=org,
        user=director,
        framework_version=fv,
        title=GLOBAL_TITLE,
        element_keys=GLOBAL_ELEMENTS,
        summary=GLOBAL_SUMMARY,
    )
    for key in GLOBAL_REMOVED:
        profiles.remove_requirement(v1, key)
    _set_levels(v1, dict.fromkeys(LEVEL_5, 5) | dict.fromkeys(LEVEL_4, 4))
    profiles.set_time_allocation(v1, GLOBAL_TIME)
    profiles.publish_version(v1, director)
    exercise = profiles.open_exercise(
        organisation=org,
        user=director,
        version=v1,
        title="Weights for the global account manager, 2026",
        method=Method.AHP,
    )
    _answer_ahp(exercise, members)
    v2 = profiles.adopt_consensus(exercise, director)
    profiles.update_details(
        v2,
        title=v2.title,
        summary=v2.summary,
        note="Weights adopted from the stakeholder exercise",
    )
    profiles.publish_version(v2, director)


def _answer_ahp(exercise: WeightingExercise, members: Mapping[str, User]) -> None:
    """Submit every stakeholder's judgements, scattered around the true view."""
    rng = np.random.default_rng(AHP_SEED)
    truth = np.array([GLOBAL_IMPORTANCE.get(item["key"], 3) for item in exercise.items], float)
    kinds = [item["kind"] for item in exercise.items]
    groups = [(g["key"], g["members"]) for g in exercise.groups]
    participants = profiles.invite_participants(
        exercise, [(members[s.username], s.function) for s in STAKEHOLDERS]
    )
    for stakeholder, participant in zip(STAKEHOLDERS, participants, strict=True):
        tilt = np.array([stakeholder.tilt.get(kind, 1.0) for kind in kinds])
        view = truth * tilt * np.exp(rng.normal(0, stakeholder.view_noise, len(truth)))
        answers = _ahp_judgements(rng, list(view), groups, stakeholder.judgement_noise)
        profiles.save_answers(participant, answers, submit=True)


def _national_profile(org: Organisation, fv: FrameworkVersion, members: Mapping[str, User]) -> None:
    """Publish v1 (25% selling) and open a points exercise nobody has answered yet."""
    director = members["diego.director"]
    v1 = profiles.create_profile(
        organisation=org,
        user=director,
        framework_version=fv,
        title=NATIONAL_TITLE,
        element_keys=NATIONAL_ELEMENTS,
        summary=NATIONAL_SUMMARY,
    )
    _set_levels(v1, dict.fromkeys(NATIONAL_LEVEL_4, 4))
    profiles.set_time_allocation(v1, NATIONAL_TIME)
    profiles.publish_version(v1, director)
    exercise = profiles.open_exercise(
        organisation=org,
        user=director,
        version=v1,
        title="Weights for the national account manager",
        method=Method.POINTS,
    )
    profiles.invite_participants(
        exercise,
        [
            (members["paula.participant"], Function.KAM),
            (members["mia.manager"], Function.LINE_MANAGER),
        ],
    )
