"""Edit pages carry the record's version and refuse a save over someone else's change (A25)."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages

from kamfit.assessments import services
from kamfit.assessments.models import Cycle, Person
from kamfit.orgs.models import Role
from tests.conftest import Team

pytestmark = pytest.mark.django_db

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
