"""Sign in, read a role element, copy the framework, edit it, publish it — in a browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from kamfit.frameworks.models import Framework, VersionStatus
from kamfit.orgs.models import Role as OrgRole
from tests.conftest import Personas
from tests.e2e.journey import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_director_copies_edits_and_publishes_the_warwick_framework(
    page: Page, live_server: object, personas: Personas
) -> None:
    base = str(live_server)
    director = personas.a.users[OrgRole.DIRECTOR].get_username()
    sign_in(page, base, director)

    # Read the paper's framework: a role element, both sides, the competencies.
    page.get_by_role("link", name="Competencies for key account managers").click()
    page.get_by_role("link", name="Risk", exact=True).click()
    expect(
        page.get_by_role("heading", name=re.compile("Risk — Managing major source"))
    ).to_be_visible()
    expect(
        page.get_by_text("Provide process/forum for risk assessment and decision")
    ).to_be_visible()
    expect(page.get_by_text("Negotiate to mitigate risk", exact=True)).to_be_visible()
    expect(page.get_by_text("Financial acumen/ business case")).to_be_visible()
    expect(page.get_by_text(re.compile("Woodburn, D. \\(2006\\)"))).to_be_visible()

    # Copy it into the organisation.
    page.get_by_role("link", name="Frameworks", exact=True).first.click()
    page.get_by_label("Title of your copy").fill("Alpha global KAM")
    page.get_by_role("button", name="Copy to Alpha Ltd").click()
    expect(page.get_by_role("heading", name=re.compile("Alpha global KAM"))).to_be_visible()
    expect(page.get_by_text("Draft", exact=True).first).to_be_visible()

    # Edit: add a KAM responsibility at Risk, change a competency's kind.
    page.get_by_role("link", name="Risk", exact=True).click()
    page.get_by_label("New kam responsibility").fill("Keep a risk register for the account")
    page.get_by_label("New kam responsibility").press("Enter")
    expect(page.get_by_role("textbox", name="Reword: Keep a risk register")).to_be_visible()
    page.get_by_role("link", name="Competencies", exact=True).click()
    page.get_by_label("Kind of Negotiation", exact=True).select_option("C/A")
    page.get_by_label("Name of Negotiation", exact=True).press("Enter")
    expect(page.get_by_label("Kind of Negotiation", exact=True)).to_have_value("C/A")

    # The changes page shows the difference from the parent.
    page.get_by_role("link", name="Changes").click()
    expect(page.get_by_text("~ competency negotiation kind: C → C/A")).to_be_visible()
    expect(
        page.get_by_text("+ element risk kam: Keep a risk register for the account")
    ).to_be_visible()

    # Publish: the version is frozen and the edit controls go away.
    page.get_by_role("link", name="Roles of KAM").click()
    page.get_by_label("Publication note").fill("Global accounts edition")
    page.get_by_role("button", name="Publish v1").click()
    expect(page.get_by_text(re.compile("Published version 1"))).to_be_visible()
    expect(page.get_by_role("button", name="Start a new draft")).to_be_visible()
    page.get_by_role("link", name="Risk", exact=True).click()
    expect(page.get_by_label("New kam responsibility")).to_have_count(0)

    framework = Framework.objects.get(organisation=personas.a.org, title="Alpha global KAM")
    version = framework.versions.get()
    assert version.status == VersionStatus.PUBLISHED
    assert version.note == "Global accounts edition"


def test_participant_reads_but_cannot_edit(
    page: Page, live_server: object, personas: Personas
) -> None:
    base = str(live_server)
    sign_in(page, base, personas.a.users[OrgRole.PARTICIPANT].get_username())
    page.get_by_role("link", name="Alpha KAM framework").click()
    expect(page.get_by_role("heading", name=re.compile("Alpha KAM framework v1"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Publish|Copy"))).to_have_count(0)
    page.goto(f"{base}/o/beta/frameworks/")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
