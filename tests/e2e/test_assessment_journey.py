"""Rate a KAM, read the results, make a plan, release, follow it up — in a browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from kamfit.assessments.models import FormStatus, RatingForm
from kamfit.development.models import Action, ActionStatus
from kamfit.orgs.models import Role
from tests.conftest import Team
from tests.e2e.journey import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def new_page(browser: Browser) -> Page:
    return browser.new_context(viewport={"width": 1400, "height": 900}).new_page()


def done(page: Page) -> None:
    """Close a second user's browser context before the live server stops."""
    page.context.close()


def test_rating_results_plan_and_release(
    page: Page, browser: Browser, live_server: object, team: Team
) -> None:
    base = str(live_server)
    org = team.side.org.slug
    manager = team.side.users[Role.MANAGER]
    keys = list(team.answers(1))

    # 1. The line manager rates Pat: saves a draft, is refused without evidence, submits.
    sign_in(page, base, manager.get_username())
    page.get_by_role("link", name="Assessments", exact=True).click()
    expect(page.get_by_role("heading", name="Rating forms for you")).to_be_visible()
    page.get_by_role("link", name="Pat Participant").click()
    expect(page.get_by_role("heading", name="Rate Pat Participant")).to_be_visible()
    for key in keys:
        page.locator(f"input[name='level-{key}'][value='1']").check()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    page.get_by_role("button", name="Submit (final)").click()
    expect(page.get_by_text(f"{keys[0]}.evidence: give the evidence")).to_be_visible()
    for key in keys:
        page.locator(f"textarea[name='evidence-{key}']").fill(f"Missed the {key} goals at Globex")
    page.get_by_role("button", name="Submit (final)").click()
    expect(page.get_by_text("the form is now final")).to_be_visible()
    rater = team.rater(team.kam, manager)
    assert RatingForm.objects.get(rater=rater).status == FormStatus.SUBMITTED

    # Three peers and Pat themself rate too (the service the form uses).
    for peer in team.peers:
        team.submit(team.kam, peer, 2)
    team.submit(team.kam, team.side.users[Role.PARTICIPANT], 5)

    # 2. HR reads the team and Pat's result, makes a plan and releases the result.
    hr = new_page(browser)
    sign_in(hr, base, team.side.users[Role.HR].get_username())
    hr.goto(f"{base}/o/{org}/assessments/{team.cycle.pk}/team/")
    expect(hr.get_by_role("heading", name="Make or buy")).to_be_visible()
    expect(hr.locator("table.heatmap")).to_contain_text("Pat Participant")
    hr.locator("table.heatmap").get_by_role("link", name="Pat Participant").click()
    expect(hr.get_by_text("weighted fit")).to_be_visible()
    expect(hr.get_by_text("Blind spot").first).to_be_visible()
    expect(hr.get_by_text(re.compile("alpha-manager")).first).to_be_visible()  # who rated
    hr.get_by_role("button", name="Make a development plan from these gaps").click()
    expect(hr.get_by_text(re.compile(r"Plan made with \d+ actions"))).to_be_visible()
    first = Action.objects.filter(plan__person=team.kam).order_by("position").first()
    assert first is not None
    hr.goto(f"{base}/o/{org}/assessments/{team.cycle.pk}/")
    hr.get_by_label("People to release").select_option(label="Pat Participant")
    hr.get_by_role("button", name="Release").click()
    expect(hr.get_by_text("Released results to 1 people")).to_be_visible()
    done(hr)

    # 3. Pat sees the released result (peers anonymous) and updates the plan.
    pat = new_page(browser)
    sign_in(pat, base, team.side.users[Role.PARTICIPANT].get_username())
    pat.get_by_role("link", name="Assessments", exact=True).click()
    pat.get_by_role("link", name="Spring review").click()
    expect(pat.get_by_text("weighted fit")).to_be_visible()
    expect(pat.locator("body")).not_to_contain_text("alpha-peer1")
    pat.get_by_role("link", name="Development", exact=True).click()
    pat.get_by_role("link", name=re.compile("Development plan")).click()
    row = pat.locator(f"#action-{first.pk}")
    row.get_by_label(re.compile("Status of")).select_option("in_progress")
    row.get_by_label(re.compile("Progress note for")).fill("Booked the March workshop")
    row.get_by_role("button", name="Save").click()
    expect(pat.get_by_text("Progress saved.")).to_be_visible()
    first.refresh_from_db()
    assert first.status == ActionStatus.IN_PROGRESS
    assert first.progress_note == "Booked the March workshop"

    # 4. A colleague's result stays out of reach, even by its address.
    response = pat.goto(f"{base}/o/{org}/assessments/{team.cycle.pk}/people/{team.colleague.pk}/")
    assert response is not None and response.status == 404
    done(pat)
