"""Edit pages carry the record's version and refuse a save over someone else's change (A25)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.http import HttpResponseBase
from django.test import Client

from kamfit.assessments import services
from kamfit.assessments.models import Cycle, Person
from kamfit.development import services as plans
from kamfit.development.models import Action
from kamfit.domain import profiles as dp
from kamfit.frameworks import services as fw_services
from kamfit.frameworks.models import Competency
from kamfit.frameworks.queries import get_scale
from kamfit.orgs.models import Membership, Organisation, Role
from kamfit.profiles import services as profile_services
from kamfit.profiles.models import ProfileVersion
from tests.conftest import Personas, Team

pytestmark = pytest.mark.django_db

USER_DOC = "organisations.md"  # explains "changed since you opened it", lists the forms
VERSION = re.compile(r'name="version" value="([0-9a-f]{64})"')


def _version(html: str) -> str:
    found = VERSION.search(html)
    assert found is not None, "no version field on the page"
    return found.group(1)


def _person_form(person: Person, **changes: str) -> dict[str, str]:
    return {
        "reference": person.reference,
        "name": person.name,
        "kind": person.kind,
        "background": person.background,
        "active": "on",
        **changes,
    }


def test_a_person_saved_by_someone_else_meanwhile_is_not_overwritten(team: Team) -> None:
    person = team.colleague
    url = f"/o/alpha/people/{person.pk}/edit/"
    mine, theirs = team.side.client(Role.HR), team.side.client(Role.OWNER)
    version = _version(mine.get(url).content.decode())
    assert _version(theirs.get(url).content.decode()) == version

    saved = theirs.post(url, {**_person_form(person, name="Their Name"), "version": version})
    assert saved.status_code == 302
    refused = mine.post(url, {**_person_form(person, name="My Name"), "version": version})
    assert refused.status_code == 409
    assert "changed this since you opened it" in refused.content.decode()
    person.refresh_from_db()
    assert person.name == "Their Name"

    fresh = _version(refused.content.decode())  # the page now holds the current version
    assert fresh != version
    again = mine.post(url, {**_person_form(person, name="My Name"), "version": fresh})
    assert again.status_code == 302
    person.refresh_from_db()
    assert person.name == "My Name"


def test_a_person_form_without_a_version_saves_as_before(team: Team) -> None:
    person = team.colleague
    url = f"/o/alpha/people/{person.pk}/edit/"
    response = team.side.client(Role.HR).post(url, _person_form(person, name="Plain Save"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.name == "Plain Save"


def test_a_cycle_changed_meanwhile_refuses_the_stale_page(team: Team) -> None:
    cycle = team.cycle
    page = f"/o/alpha/assessments/{cycle.pk}/"
    change = f"/o/alpha/assessments/{cycle.pk}/change/"
    mine = team.side.client(Role.HR)
    version = _version(mine.get(page).content.decode())
    services.update_cycle(cycle, title="Renamed elsewhere")  # someone else's change

    refused = mine.post(change, {"action": "close", "version": version})
    assert refused.status_code == 302
    said = [str(m) for m in get_messages(refused.wsgi_request)]
    assert any("changed this since you opened it" in m for m in said), said
    assert Cycle.objects.get(pk=cycle.pk).status == "open"

    fresh = _version(mine.get(page).content.decode())
    done = mine.post(change, {"action": "close", "version": fresh})
    assert done.status_code == 302
    assert Cycle.objects.get(pk=cycle.pk).status == "closed"


# --- Every other edit form of the web pages ----------------------------------------------------
#
# One ``Form`` per edit form: where the page is, which of its forms (the text just before the
# form's version field), what the form sends, how someone else changes the same record, and
# how to read the value back. Multi-form pages that answer with a redirect (framework drafts,
# profile drafts, plans, members) refuse a stale save with the message after the redirect, as
# the cycle page does; single-form pages (scale, privacy settings) answer 409 with the form
# showing what was typed, as the person page does.


@dataclass(frozen=True)
class Form:
    """One edit form of a web page, as the tests below drive it."""

    role: Role
    page: str
    post: str
    marker: str  # text in the form just before its version field
    send: Callable[[str], dict[str, str | list[str]]]  # the form's fields for a typed value
    theirs: Callable[[], object]  # someone else's change of the same record
    read: Callable[[], object]  # the stored value the form changes
    rerenders: bool  # 409 with the form (True) or a redirect with a message (False)
    typed: tuple[str, str] = ("Mine", "Mine again")  # what the user types, twice

    def version(self, html: str) -> str:
        found = re.search(
            re.escape(self.marker) + r'.*?name="version" value="([0-9a-f]{64})"', html, re.S
        )
        assert found is not None, f"no version field after {self.marker!r}"
        return found.group(1)


def _framework_forms(personas: Personas) -> dict[str, Form]:
    side = personas.a
    draft = side.draft
    base = f"/o/alpha/frameworks/{side.framework.pk}/v/{draft.number}/"
    competency = Competency.objects.filter(version=draft).order_by("pk").first()
    assert competency is not None
    levels = get_scale(draft)

    def scale(first: str) -> dict[str, str | list[str]]:
        fields: dict[str, str | list[str]] = {"action": "save"}
        for n, level in enumerate(levels, start=1):
            fields[f"name_{n}"] = level.name
            fields[f"description_{n}"] = first if n == 1 else level.description
        return fields

    def their_scale() -> None:
        changed = [(lv.name, lv.description) for lv in levels]
        changed[0] = (changed[0][0], "Their wording of level one")
        fw_services.update_scale(draft, changed)

    def scale_read() -> object:
        draft.refresh_from_db()
        return get_scale(draft)[0].description

    def title_read() -> object:
        draft.refresh_from_db()
        return draft.title

    return {
        "framework details": Form(
            Role.DIRECTOR,
            base,
            base + "edit/",
            'value="update-details">',
            lambda typed: {"action": "update-details", "title": typed, "description": ""},
            lambda: fw_services.update_draft_details(version=draft, title="Their title"),
            title_read,
            rerenders=False,
        ),
        "framework competency": Form(
            Role.DIRECTOR,
            base + "competencies/",
            base + "edit/",
            f'name="pk" value="{competency.pk}">',
            lambda typed: {
                "action": "update-competency",
                "next": base + "competencies/",
                "pk": str(competency.pk),
                "name": competency.name,
                "kind": competency.kind,
                "description": typed,
            },
            lambda: fw_services.update_row(row=competency, fields={"description": "Their text"}),
            lambda: Competency.objects.get(pk=competency.pk).description,
            rerenders=False,
        ),
        "framework scale": Form(
            Role.DIRECTOR,
            base + "scale/",
            base + "scale/",
            'value="save">',
            scale,
            their_scale,
            scale_read,
            rerenders=True,
        ),
    }


def _profile_forms(personas: Personas) -> dict[str, Form]:
    side = personas.a
    version = profile_services.create_profile(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        framework_version=side.published,
        title="Draft profile",
        element_keys=["credibility", "risk"],
    )
    page = f"/o/alpha/profiles/{version.profile_id}/v{version.number}/"
    key = version.requirements.order_by("pk").values_list("competency__key", flat=True)[0]
    areas = [a.key for a in dp.ACTIVITY_AREAS]

    def fresh() -> ProfileVersion:
        return ProfileVersion.objects.get(pk=version.pk)

    keys = list(
        version.requirements.filter(included=True)
        .order_by("pk")
        .values_list("competency__key", flat=True)
    )
    weights = [100 - 2 * (len(keys) - 1)] + [2] * (len(keys) - 1)

    def requirements(typed: str) -> dict[str, str | list[str]]:
        fields: dict[str, str | list[str]] = {"action": "requirements", "key": keys}
        for k, w in zip(keys, weights, strict=True):
            fields[f"level-{k}"] = typed if k == key else "3"
            fields[f"weight-{k}"] = str(w)
        return fields

    def their_requirements() -> None:
        levels = {k: ("2" if k == key else "3", str(w)) for k, w in zip(keys, weights, strict=True)}
        changes: dict[str, tuple[object, object]] = dict(levels)
        profile_services.update_requirements(fresh(), changes)

    def time(typed: str) -> dict[str, str | list[str]]:
        shares = dict.fromkeys(areas, "0") | {"selling": typed, "strategy": str(100 - int(typed))}
        return {"action": "time", **{f"time-{k}": v for k, v in shares.items()}}

    def their_time() -> None:
        shares = dict.fromkeys(areas, 0) | {"selling": 5, "strategy": 95}
        profile_services.set_time_allocation(fresh(), shares)

    return {
        "profile details": Form(
            Role.DIRECTOR,
            page,
            page + "edit/",
            'value="details">',
            lambda typed: {"action": "details", "title": typed},
            lambda: profile_services.update_details(fresh(), title="Their title"),
            lambda: fresh().title,
            rerenders=False,
        ),
        "profile requirements": Form(
            Role.DIRECTOR,
            page,
            page + "edit/",
            'value="requirements">',
            requirements,
            their_requirements,
            lambda: str(fresh().requirements.get(competency__key=key).required_level),
            rerenders=False,
            typed=("4", "5"),
        ),
        "profile time": Form(
            Role.DIRECTOR,
            page,
            page + "edit/",
            'value="time">',
            time,
            their_time,
            lambda: f"{float((fresh().time_allocation or {})['selling']):g}",
            rerenders=False,
            typed=("15", "20"),
        ),
        "profile scope": Form(
            Role.DIRECTOR,
            page,
            page + "edit/",
            'value="scope">',
            lambda typed: {"action": "scope", "elements": typed.split(",")},
            lambda: profile_services.set_scope(fresh(), ["credibility"]),
            lambda: ",".join(sorted(fresh().scope.values_list("element__key", flat=True))),
            rerenders=False,
            typed=("risk", "credibility,risk"),
        ),
    }


def _team_forms(team: Team) -> dict[str, Form]:
    side = team.side
    hr = side.users[Role.HR]
    plan = plans.create_plan(team.assessee(team.kam), hr)
    action = plans.add_action(
        plan, hr, plans.ActionInput(competency="negotiation", title="Course", action_type="course")
    )
    member = Membership.objects.get(organisation=side.org, user=side.users[Role.ASSESSOR])
    return {
        "plan progress": Form(
            Role.HR,
            f"/o/alpha/development/{plan.pk}/",
            f"/o/alpha/development/{plan.pk}/change/",
            f'name="item" value="{action.pk}">',
            lambda typed: {
                "action": "progress",
                "item": str(action.pk),
                "status": "in_progress",
                "progress_note": typed,
            },
            lambda: plans.update_progress(
                Action.objects.get(pk=action.pk), hr, status="done", progress_note="Their note"
            ),
            lambda: Action.objects.get(pk=action.pk).progress_note,
            rerenders=False,
        ),
        "member role": Form(
            Role.OWNER,
            "/o/alpha/members/",
            f"/o/alpha/members/{member.pk}/role/",
            f'/o/alpha/members/{member.pk}/role/"',
            lambda typed: {"role": typed},
            lambda: Membership.objects.filter(pk=member.pk).update(role=Role.MANAGER),
            lambda: Membership.objects.get(pk=member.pk).role,
            rerenders=False,
            typed=("participant", "consultant"),
        ),
        "privacy settings": Form(
            Role.OWNER,
            "/o/alpha/privacy/settings/",
            "/o/alpha/privacy/settings/",
            "csrfmiddlewaretoken",
            lambda typed: {
                "retention_candidate_months": "12",
                "retention_leaver_months": "24",
                "min_group_size": typed,
            },
            lambda: Organisation.objects.filter(pk=side.org.pk).update(min_group_size=9),
            lambda: str(Organisation.objects.get(pk=side.org.pk).min_group_size),
            rerenders=True,
            typed=("6", "7"),
        ),
    }


FORM_GROUPS: dict[str, Callable[[pytest.FixtureRequest], dict[str, Form]]] = {
    "framework": lambda request: _framework_forms(request.getfixturevalue("personas")),
    "profile": lambda request: _profile_forms(request.getfixturevalue("personas")),
    "team": lambda request: _team_forms(request.getfixturevalue("team")),
}
FORM_NAMES = [
    "framework details",
    "framework competency",
    "framework scale",
    "profile details",
    "profile requirements",
    "profile time",
    "profile scope",
    "plan progress",
    "member role",
    "privacy settings",
]


@pytest.fixture(params=FORM_NAMES)
def form(request: pytest.FixtureRequest) -> Form:
    """Each edit form in turn, with the records it edits made for it."""
    name = str(request.param)
    group = {"framework": "framework", "profile": "profile"}.get(name.split(maxsplit=1)[0], "team")
    return FORM_GROUPS[group](request)[name]


def _said(response: HttpResponseBase) -> str:
    """What the answer tells the user: the page (409) or the messages after a redirect."""
    said = [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]
    return " ".join(said) + getattr(response, "content", b"").decode()


def _refused(form: Form, response: HttpResponseBase, message: str) -> None:
    assert response.status_code == (409 if form.rerenders else 302), response.status_code
    assert message in _said(response)


def _save(form: Form, client: Client, typed: str, version: str | None) -> HttpResponseBase:
    fields = form.send(typed) | ({"version": version} if version is not None else {})
    return client.post(form.post, fields)


def test_two_consecutive_saves_on_the_same_page_work(form: Form, personas: Personas) -> None:
    client = personas.a.client(form.role)
    first, second = form.typed
    version = form.version(client.get(form.page).content.decode())
    saved = _save(form, client, first, version)
    assert saved.status_code == 302, _said(saved)
    assert str(form.read()) == first
    again = form.version(client.get(saved["Location"]).content.decode())  # the page reloaded
    assert again != version
    assert _save(form, client, second, again).status_code == 302
    assert str(form.read()) == second


def test_a_save_after_someone_elses_change_is_refused(form: Form, personas: Personas) -> None:
    client = personas.a.client(form.role)
    first, _ = form.typed
    version = form.version(client.get(form.page).content.decode())
    form.theirs()
    theirs = form.read()
    refused = _save(form, client, first, version)
    _refused(form, refused, "changed this since you opened it")
    assert form.read() == theirs  # their change stands, nothing of mine was written
    if form.rerenders:  # the form shows what I typed, with the current version
        html = getattr(refused, "content", b"").decode()
        assert re.search(f'(value="|>\\s*){first}("|<)', html), "what I typed is gone"
        fresh = form.version(html)
    else:
        fresh = form.version(client.get(form.page).content.decode())
    assert fresh != version
    assert _save(form, client, first, fresh).status_code == 302
    assert str(form.read()) == first


@pytest.mark.parametrize("garbled", ["abc", "0" * 63 + "g", "<script>", " " + "0" * 64])
def test_a_garbled_version_is_refused_with_a_clear_message(
    form: Form, personas: Personas, garbled: str
) -> None:
    client = personas.a.client(form.role)
    before = form.read()
    refused = _save(form, client, form.typed[0], garbled)
    _refused(form, refused, "version: this form's version is not one kamfit wrote")
    assert form.read() == before


def test_a_form_without_a_version_saves_as_before(form: Form, personas: Personas) -> None:
    """As an API write without If-Match: scripts and old pages keep working (documented)."""
    client = personas.a.client(form.role)
    saved = _save(form, client, form.typed[0], None)
    assert saved.status_code == 302, _said(saved)
    assert str(form.read()) == form.typed[0]


def test_every_edit_form_carries_a_version() -> None:
    """The list in docs/user names these forms: keep both in step."""
    doc = Path(__file__).parents[3] / "docs" / "user" / USER_DOC
    text = doc.read_text(encoding="utf-8")
    for name in FORM_NAMES:
        assert f"({name})" in text, f"{USER_DOC} does not list the {name} form"
