"""The people, assessment, rating-form, result and development-plan pages, end to end."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from kamfit.assessments import services
from kamfit.assessments.models import FormStatus, Person, QuickCheck, Rater, RatingForm
from kamfit.development.models import Action, ActionStatus, Plan
from kamfit.development.services import create_plan
from kamfit.orgs.models import Role
from tests.conftest import Personas, Team
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(name: str, team: Team, *args: object) -> str:
    return reverse(f"assessments:{name}", args=[team.side.org.slug, *args])


def rated(team: Team) -> Team:
    """Submit manager and peer forms for kam-1 so results exist."""
    manager = team.side.users[Role.MANAGER]
    team.submit(team.kam, manager, 1)
    for peer in team.peers:
        team.submit(team.kam, peer, 3)
    team.submit(team.kam, team.side.users[Role.PARTICIPANT], 5)
    return team


def queries(client: Client, path: str) -> int:
    """The SQL statements one GET issues (counted as executed, never from the debug log)."""
    count = 0

    def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        assert client.get(path).status_code == 200
    return count


def more_people(team: Team, n: int) -> None:
    rows = [services.PersonInput(f"extra-{i}", f"Extra {i:03d}", manager="mgr-1") for i in range(n)]
    services.upsert_people(team.side.org, None, rows)
    people = list(Person.objects.filter(reference__startswith="extra-"))
    services.add_people(team.cycle, None, people)


# --- people ------------------------------------------------------------------------


def test_hr_lists_everyone_and_a_participant_only_themself(team: Team) -> None:
    hr = team.side.client(Role.HR).get(url("people", team))
    assert hr.status_code == 200
    for name in ("Pat Participant", "Casey Colleague", "Sam Seller", "Morgan Manager"):
        assert name in hr.content.decode()
    own = team.side.client(Role.PARTICIPANT).get(url("people", team)).content.decode()
    assert "Pat Participant" in own
    assert "Casey Colleague" not in own


def test_a_manager_lists_direct_reports_only(team: Team) -> None:
    page = team.side.client(Role.MANAGER).get(url("people", team)).content.decode()
    assert "Casey Colleague" in page and "Robin Rep" in page
    assert "Sam Seller" not in page  # no manager: not a report


def test_people_list_queries_do_not_grow(team: Team) -> None:
    client = team.side.client(Role.HR)
    small = queries(client, url("people", team))
    more_people(team, 40)
    assert queries(client, url("people", team)) == small > 0


def test_person_pages_of_colleagues_and_other_organisations_do_not_exist(
    team: Team, personas: Personas
) -> None:
    participant = team.side.client(Role.PARTICIPANT)
    assert participant.get(url("person", team, team.kam.pk)).status_code == 200
    assert participant.get(url("person", team, team.colleague.pk)).status_code == 404
    other = personas.b.client(Role.HR)
    assert other.get(reverse("assessments:person", args=["beta", team.kam.pk])).status_code == 404
    assert other.get(reverse("assessments:person", args=["alpha", team.kam.pk])).status_code == 404


def test_adding_a_person_by_form_and_refusals_name_the_field(team: Team) -> None:
    client = team.side.client(Role.HR)
    response = client.post(
        url("person_new", team),
        {
            "reference": "new-1",
            "name": "Nina New",
            "kind": "kam",
            "background": "sales",
            "manager": "mgr-1",
            "accounts": "Umbrella\nHooli",
            "active": "on",
        },
    )
    assert response.status_code == 302
    person = Person.objects.get(reference="new-1")
    assert person.manager is not None and person.manager.reference == "mgr-1"
    assert list(person.accounts.values_list("name", flat=True)) == ["Umbrella", "Hooli"]
    bad = client.post(
        url("person_new", team), {"reference": "bad ref", "name": "", "kind": "kam"}, follow=True
    )
    text = bad.content.decode()
    assert "reference: use 1–64 letters" in text
    assert "name: a name is required" in text


def test_only_those_who_manage_people_add_import_or_export(team: Team) -> None:
    for role in (Role.MANAGER, Role.ASSESSOR, Role.PARTICIPANT):
        client = team.side.client(role)
        assert client.get(url("person_new", team)).status_code == 403
        assert client.get(url("people_export", team)).status_code == 403
        assert client.post(url("people_import", team)).status_code == 403
        assert client.get(url("person_edit", team, team.kam.pk)).status_code in {403, 404}


def test_people_import_reports_rows_and_stores_nothing_on_error(team: Team) -> None:
    client = team.side.client(Role.HR)
    before = Person.objects.count()
    from django.core.files.uploadedfile import SimpleUploadedFile

    good = "reference,name\nimp-1,Ida Import\n"
    bad = "reference,name\nimp-2,Ivo Import\nbad ref,\n"
    response = client.post(
        url("people_import", team),
        {"file": SimpleUploadedFile("bad.csv", bad.encode()), "what": "people"},
        follow=True,
    )
    assert "row 3" in response.content.decode()
    assert Person.objects.count() == before
    client.post(url("people_import", team), {"file": SimpleUploadedFile("g.csv", good.encode())})
    assert Person.objects.count() == before + 1


def test_quick_check_by_the_manager_not_by_an_assessor(team: Team) -> None:
    data = {"meets-top-decision-makers": "yes", "note": "Strong"}
    from kamfit.domain.development import shipped_quick_check

    keys = [q.key for q in shipped_quick_check().questions]
    data = {keys[0]: "yes", keys[1]: "no", "note": "Seen in Q3"}
    manager = team.side.client(Role.MANAGER)
    assert manager.post(url("quick_check", team, team.kam.pk), data).status_code == 302
    check = QuickCheck.objects.get(person=team.kam)
    assert (check.yes_count, check.answered_count) == (1, 2)
    assert (
        team.side.client(Role.ASSESSOR)
        .post(url("quick_check", team, team.kam.pk), data)
        .status_code
        == 404
    )  # an assessor does not even see the person
    assert "1 of 2" in manager.get(url("person", team, team.kam.pk)).content.decode()


# --- cycles --------------------------------------------------------------------------


def test_cycle_pages_are_for_those_who_run_assessments(team: Team, personas: Personas) -> None:
    for role in (Role.MANAGER, Role.ASSESSOR, Role.PARTICIPANT):
        client = team.side.client(role)
        assert client.get(url("cycle", team, team.cycle.pk)).status_code == 403
        assert client.get(url("team", team, team.cycle.pk)).status_code == 403
    other = personas.b.client(Role.HR)
    assert other.get(reverse("assessments:cycle", args=["beta", team.cycle.pk])).status_code == 404
    assert team.side.client(Role.HR).get(url("cycle", team, team.cycle.pk)).status_code == 200


def test_the_cycle_page_lists_the_members_once_not_once_per_person(team: Team) -> None:
    page = team.side.client(Role.HR).get(url("cycle", team, team.cycle.pk)).content.decode()
    assert page.count('list="cycle-members"') == team.cycle.assessees.count() > 1
    assert page.count(f'<option value="{team.side.users[Role.HR].username}">') == 1


def test_a_new_cycle_from_the_page(team: Team) -> None:
    client = team.side.client(Role.DIRECTOR)
    response = client.post(
        url("cycle_new", team),
        {
            "title": "Autumn",
            "version": team.profile.pk,
            "people": [team.kam.pk],
            "min_peers": "2",
            "weight_manager": "2",
        },
    )
    assert response.status_code == 302
    cycle = team.side.org.cycles.get(title="Autumn")
    assert cycle.rules["min_peers"] == 2
    assert cycle.assessees.count() == 1
    refused = client.post(
        url("cycle_new", team),
        {"title": "Bad", "version": team.profile.pk, "weight_peer": "-1"},
        follow=True,
    )
    assert "source_weights.peer" in refused.content.decode()


def test_release_is_for_owner_and_hr(team: Team) -> None:
    data = {"action": "release", "all": "1"}
    director = team.side.client(Role.DIRECTOR)
    assert director.post(url("cycle_action", team, team.cycle.pk), data).status_code == 403
    assert (
        team.side.client(Role.HR).post(url("cycle_action", team, team.cycle.pk), data).status_code
        == 302
    )
    assert team.assessee(team.kam).released_at is not None


# --- rating forms ----------------------------------------------------------------------


def test_a_rater_saves_then_submits_and_the_form_is_final(team: Team) -> None:
    manager = team.side.users[Role.MANAGER]
    rater = team.rater(team.kam, manager)
    client = team.side.client(Role.MANAGER)
    keys = list(team.answers(3))
    page = client.get(url("rate", team, rater.pk))
    assert page.status_code == 200
    assert "Warwick" in page.content.decode()
    data = {f"level-{k}": "3" for k in keys} | {"action": "save"}
    client.post(url("rate", team, rater.pk), data)
    form = RatingForm.objects.get(rater=rater)
    assert form.status == FormStatus.DRAFT and form.ratings.count() == len(keys)
    data["action"] = "submit"
    refused = client.post(url("rate", team, rater.pk), data, follow=True).content.decode()
    assert f"{keys[0]}.evidence: give the evidence" in refused
    data |= {f"evidence-{k}": "Led the Globex renewal" for k in keys}
    assert client.post(url("rate", team, rater.pk), data).status_code == 302
    form.refresh_from_db()
    assert form.status == FormStatus.SUBMITTED
    data["action"] = "save"
    client.post(url("rate", team, rater.pk), data | {f"level-{keys[0]}": "5"})
    assert RatingForm.objects.get(rater=rater).ratings.get(competency__key=keys[0]).level == 3
    client.post(url("rate", team, rater.pk), {"action": "amend", "reason": "New evidence"})
    assert RatingForm.objects.filter(rater=rater).count() == 2


def test_a_save_from_an_outdated_page_is_refused_not_lost(team: Team) -> None:
    rater = team.rater(team.kam, team.side.users[Role.MANAGER])
    first_tab, second_tab = team.side.client(Role.MANAGER), team.side.client(Role.MANAGER)
    page = first_tab.get(url("rate", team, rater.pk)).content.decode()
    assert 'name="tag" value="0.0"' in page
    keys = list(team.answers(3))
    data = {f"level-{k}": "4" for k in keys} | {"action": "save", "tag": "0.0"}
    assert second_tab.post(url("rate", team, rater.pk), data).status_code == 302
    stale = data | {f"level-{k}": "2" for k in keys}
    shown = first_tab.post(url("rate", team, rater.pk), stale, follow=True).content.decode()
    assert "was changed since you opened it" in shown
    form = RatingForm.objects.get(rater=rater)
    assert (form.revision, {r.level for r in form.ratings.all()}) == (1, {4})
    assert 'name="tag" value="1.1"' in shown  # the page now carries the saved version


def test_a_rater_cannot_open_a_form_not_theirs(team: Team) -> None:
    peer_rater = team.rater(team.kam, team.peers[0])
    for role in (Role.MANAGER, Role.HR, Role.PARTICIPANT):
        client = team.side.client(role)
        assert client.get(url("rate", team, peer_rater.pk)).status_code == 404
        assert client.post(url("rate", team, peer_rater.pk), {"action": "save"}).status_code == 404


# --- results ---------------------------------------------------------------------------


def test_results_are_hidden_from_the_person_until_released(team: Team) -> None:
    rated(team)
    participant = team.side.client(Role.PARTICIPANT)
    manager = team.side.client(Role.MANAGER)
    result = url("result", team, team.cycle.pk, team.kam.pk)
    assert participant.get(result).status_code == 404
    assert manager.get(result).status_code == 404
    hr = team.side.client(Role.HR)
    page = hr.get(result).content.decode()
    assert "weighted fit" in page and "Blind spot" in page  # self 5 against others 1–3
    services.release_results(team.cycle, None, [team.assessee(team.kam)])
    own = participant.get(result)
    assert own.status_code == 200
    text = own.content.decode()
    assert "alpha-peer1" not in text  # peers stay anonymous
    assert "percentile" not in text  # the ranking is for those who run assessments
    assert manager.get(result).status_code == 200
    colleague = url("result", team, team.cycle.pk, team.colleague.pk)
    services.release_results(team.cycle, None, [team.assessee(team.colleague)])
    assert participant.get(colleague).status_code == 404


def test_team_page_shows_heatmap_make_or_buy_and_bench(team: Team) -> None:
    rated(team)
    page = team.side.client(Role.HR).get(url("team", team, team.cycle.pk)).content.decode()
    for text in ("Heatmap", "Make or buy", "Bench strength", "Sales background", "Warwick"):
        assert text in page
    assert "Pat Participant" in page


def test_team_page_rereads_after_a_change(team: Team) -> None:
    rated(team)
    client = team.side.client(Role.HR)
    before = client.get(url("team", team, team.cycle.pk)).content.decode()
    assert "Casey Colleague" in before
    team.submit(team.colleague, team.side.users[Role.ASSESSOR], 5)
    after = client.get(url("team", team, team.cycle.pk)).content.decode()
    assert after != before  # the snapshot of the arrays follows every submitted form


def test_team_page_queries_do_not_grow(team: Team) -> None:
    rated(team)
    client = team.side.client(Role.HR)
    page = url("team", team, team.cycle.pk)
    queries(client, page)  # reads the arrays and keeps them
    small = queries(client, page)  # from the snapshot
    team.submit(team.colleague, team.side.users[Role.ASSESSOR], 3)
    reread = queries(client, page)  # a change is read once…
    more_people(team, 40)
    assert queries(client, page) == reread
    assert queries(client, page) == small > 0  # …then kept


def test_results_export_csv(team: Team) -> None:
    rated(team)
    response = team.side.client(Role.HR).get(url("team_export", team, team.cycle.pk, "csv"))
    assert response.status_code == 200
    assert b"kam-1" in response.content
    assert (
        team.side.client(Role.MANAGER)
        .get(url("team_export", team, team.cycle.pk, "csv"))
        .status_code
        == 403
    )


# --- development plans -----------------------------------------------------------------


def plan_for_kam(team: Team) -> Plan:
    rated(team)
    return create_plan(team.assessee(team.kam), team.side.users[Role.HR])


def test_plan_from_gaps_is_seen_by_person_and_manager_after_release(team: Team) -> None:
    plan = plan_for_kam(team)
    assert plan.actions.count() > 0
    link = reverse("development:plan", args=[team.side.org.slug, plan.pk])
    participant = team.side.client(Role.PARTICIPANT)
    assert participant.get(link).status_code == 404
    services.release_results(team.cycle, None, [team.assessee(team.kam)])
    assert participant.get(link).status_code == 200
    assert team.side.client(Role.MANAGER).get(link).status_code == 200
    assert team.side.client(Role.ASSESSOR).get(link).status_code == 404


def test_person_and_manager_update_progress_but_not_the_plan(team: Team) -> None:
    plan = plan_for_kam(team)
    services.release_results(team.cycle, None, [team.assessee(team.kam)])
    action = cast(Action, plan.actions.first())
    change = reverse("development:plan_action", args=[team.side.org.slug, plan.pk])
    participant = team.side.client(Role.PARTICIPANT)
    participant.post(
        change,
        {
            "action": "progress",
            "item": action.pk,
            "status": "in_progress",
            "progress_note": "Booked",
        },
    )
    action.refresh_from_db()
    assert action.status == ActionStatus.IN_PROGRESS and action.progress_note == "Booked"
    assert action.updated_by == team.side.users[Role.PARTICIPANT]
    for role in (Role.PARTICIPANT, Role.MANAGER):
        client = team.side.client(role)
        assert client.post(change, {"action": "add", "title": "x"}).status_code == 403
        assert client.post(change, {"action": "remove", "item": action.pk}).status_code == 403
    assert Action.objects.filter(pk=action.pk).exists()


def test_an_attribute_is_not_given_a_course(team: Team) -> None:
    plan = plan_for_kam(team)
    attribute = team.profile.requirements.filter(competency__kind="A").first()
    assert attribute is not None
    change = reverse("development:plan_action", args=[team.side.org.slug, plan.pk])
    response = team.side.client(Role.HR).post(
        change,
        {
            "action": "add",
            "competency": attribute.competency.key,
            "action_type": "course",
            "title": "A course in tenacity",
        },
        follow=True,
    )
    assert "action_type: a course does not suit" in response.content.decode()


def test_a_consultant_of_another_organisation_sees_nothing(personas: Personas, team: Team) -> None:
    outsider = cast(User, UserFactory(username="gamma-consultant"))
    MembershipFactory(organisation=personas.b.org, role=Role.CONSULTANT, user=outsider)
    client = Client()
    client.force_login(outsider)
    assert client.get(url("people", team)).status_code == 404
    assert client.get(url("cycle", team, team.cycle.pk)).status_code == 404


def test_a_released_result_stays_as_released(team: Team) -> None:
    rated(team)
    services.release_results(team.cycle, None, [team.assessee(team.kam)])
    result = url("result", team, team.cycle.pk, team.kam.pk)
    participant = team.side.client(Role.PARTICIPANT)
    hr = team.side.client(Role.HR)

    def table(client: Client) -> str:
        page = client.get(result).content.decode()
        return page[page.index('<table class="grid result">') : page.index("</table>")]

    seen = table(participant)
    rater = team.rater(team.kam, team.side.users[Role.MANAGER])
    services.amend_form(rater, None, reason="Calibration")
    form = RatingForm.objects.get(rater=rater, number=2)
    services.save_form(form, None, team.answers(5), submit=True)
    assert table(participant) == seen  # as released
    live = table(hr)
    assert "Line manager 5.0" in live and "Line manager 5.0" not in seen


def test_a_later_unreleased_cycle_does_not_show_in_the_plan(team: Team) -> None:
    plan = plan_for_kam(team)
    services.release_results(team.cycle, None, [team.assessee(team.kam)])
    hr = team.side.users[Role.HR]
    later = services.create_cycle(team.side.org, hr, title="Autumn", profile_version=team.profile)
    services.add_people(later, hr, [team.kam])
    services.open_cycle(later)
    manager = team.side.users[Role.MANAGER]
    form = services.draft_form(Rater.objects.get(assessee__cycle=later, user=manager), manager)
    services.save_form(form, manager, team.answers(5), submit=True)
    link = reverse("development:plan", args=[team.side.org.slug, plan.pk])
    own = team.side.client(Role.PARTICIPANT).get(link).content.decode()
    assert "Autumn" not in own
    assert "Autumn" in team.side.client(Role.HR).get(link).content.decode()
