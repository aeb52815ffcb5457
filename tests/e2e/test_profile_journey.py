"""Build a role profile, weight it with stakeholders, adopt, publish, download — in a browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from kamfit.orgs.models import Role as OrgRole
from kamfit.profiles.models import ProfileVersion, WeightsOrigin
from tests.conftest import Personas
from tests.e2e.journey import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Global account manager"
EXERCISE = "Weights for the global account manager"
# Risk and Alignment cite these eight; the director's hand-set weights sum to 100.
WEIGHTS = {
    "Networking": "15",
    "Knowledge: company, industry, supply chain etc": "10",
    "Financially aware": "15",
    "Vision & creativity": "15",
    "Strategic": "20",
    "Negotiation": "10",
    "Sharing": "5",
    "Calculated risk-taking": "10",
}
# HR and the owner share 100 points differently, in the order of WEIGHTS.
HR_POINTS = [20, 15, 15, 10, 15, 10, 10, 5]
OWNER_POINTS = [10, 10, 25, 15, 20, 10, 5, 5]


def watch(page: Page, errors: list[str]) -> Page:
    """Record JavaScript errors, dialogs and console errors (the browser's own favicon aside)."""

    def console(msg: ConsoleMessage) -> None:
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"console: {msg.text} {msg.location}")

    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    page.on("console", console)
    return page


def answer(
    browser: Browser, base: str, username: str, points: list[int], errors: list[str]
) -> None:
    """Sign in as a stakeholder, share the points from the Role profiles page and submit."""
    page = watch(browser.new_context().new_page(), errors)
    sign_in(page, base, username)
    page.get_by_role("link", name="Role profiles").click()
    expect(page.get_by_role("heading", name="Weighting you are asked for")).to_be_visible()
    page.get_by_role("listitem").get_by_role("link", name=EXERCISE).click()
    expect(page.get_by_role("heading", name=EXERCISE)).to_be_visible()
    for name, value in zip(WEIGHTS, points, strict=True):
        page.get_by_label(f"Points for {name}", exact=True).fill(str(value))
    page.get_by_role("button", name="Submit my weights").click()
    expect(page.get_by_text("Submitted your weights. Thank you.")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text=EXERCISE)).to_contain_text("Submitted")
    page.context.close()


def download(page: Page, link: str, tmp_path: Path) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link).click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path.read_bytes()


def test_director_weights_a_profile_with_stakeholders_and_publishes_it(
    page: Page, browser: Browser, live_server: object, personas: Personas, tmp_path: Path
) -> None:
    base = str(live_server)
    errors: list[str] = []
    watch(page, errors)
    a = personas.a
    sign_in(page, base, a.users[OrgRole.DIRECTOR].get_username())

    # Create the profile on the organisation's framework with two role elements in scope.
    page.get_by_role("link", name="Role profiles").click()
    expect(page.get_by_role("heading", name="Role profiles")).to_be_visible()
    page.get_by_role("link", name="New role profile").click()
    page.get_by_label("Framework version").select_option(label="Alpha KAM framework v1")
    page.get_by_role("button", name="Choose").click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Risk — Managing major source of risk").check()
    page.get_by_label("Alignment — Integrating route to market strategy").check()
    page.get_by_role("button", name="Create the profile").click()
    expect(page.get_by_text(f"Created “{TITLE}” with 8 requirements")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(f"{TITLE} v1 Draft"))).to_be_visible()

    # A required level and hand-set weights summing to 100.
    page.get_by_label("Required level of Strategic").select_option(label="5 — Expert")
    for name, weight in WEIGHTS.items():
        page.get_by_label(f"Weight of {name} in percent").fill(weight)
    page.get_by_role("button", name="Save levels and weights").click()
    expect(page.get_by_text("Saved the required levels and weights.")).to_be_visible()
    expect(page.get_by_text("Weights: Set by hand.")).to_be_visible()
    expect(page.get_by_label("Required level of Strategic")).to_have_value("5")
    expect(page.get_by_label("Weight of Strategic in percent")).to_have_value("20.00")

    # 30% selling: the paper's directors want 5–10%, so the page warns.
    page.get_by_label("Share of time: Selling").fill("30")
    page.get_by_label("Share of time: Customer relationships").fill("15")
    page.get_by_label("Share of time: Internal orchestration").fill("15")
    page.get_by_role("button", name="Save the time allocation").click()
    expect(page.get_by_text("Saved the time allocation.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Selling takes 30% of the time, above"))).to_be_visible()
    expect(page.get_by_text("Selling takes 30% of this role's time")).to_be_visible()

    # A points exercise, with HR and the owner invited.
    page.get_by_role("link", name="Run a weighting exercise").click()
    page.get_by_label("Title").fill(EXERCISE)
    page.get_by_label("Points allocation").check()
    page.get_by_role("button", name="Open the exercise").click()
    expect(page.get_by_text(f"Opened “{EXERCISE}”. Now invite the stakeholders.")).to_be_visible()
    for role, function in ((OrgRole.HR, "HR"), (OrgRole.OWNER, "Senior management")):
        username = a.users[role].get_username()
        page.get_by_label("Member to invite").select_option(label=username)
        page.get_by_label("Function of the stakeholder").select_option(label=function)
        page.get_by_role("button", name="Invite", exact=True).click()
        expect(page.get_by_text(f"Invited {username}.")).to_be_visible()
    expect(page.get_by_text("0 of 2 submitted")).to_be_visible()

    # Each answers in their own browser.
    answer(browser, base, a.users[OrgRole.HR].get_username(), HR_POINTS, errors)
    answer(browser, base, a.users[OrgRole.OWNER].get_username(), OWNER_POINTS, errors)

    # The director reads the results and adopts the consensus.
    page.reload()
    expect(page.get_by_text("2 of 2 submitted")).to_be_visible()
    page.get_by_role("link", name="Results").click()
    expect(page.get_by_role("heading", name=f"Weights: {EXERCISE}")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Kendall's W = \d\.\d\d"))).to_be_visible()
    table = page.get_by_role("table").filter(has_text="Consensus")
    expect(table.get_by_role("row")).to_have_count(1 + len(WEIGHTS))
    # Financially aware: (15 + 25) / 2 = 20% of the points, the most.
    expect(table.get_by_role("row").nth(1)).to_contain_text("Financially aware")
    expect(table.get_by_role("row").nth(1)).to_contain_text("20.0%")
    page.get_by_role("button", name="Adopt the consensus into the profile").click()
    expect(page.get_by_text("Adopted the consensus weights into draft version 1.")).to_be_visible()
    expect(
        page.get_by_text(re.compile(f"Adopted from the weighting exercise “{EXERCISE}”"))
    ).to_be_visible()
    expect(page.get_by_label("Weight of Financially aware in percent")).to_have_value("20.00")

    # Publish, then download the job description.
    page.get_by_role("button", name="Publish version 1").click()
    expect(page.get_by_text("Published version 1: it never changes from now on.")).to_be_visible()
    version = ProfileVersion.objects.get(title=TITLE)
    assert version.is_published
    assert version.weights_origin == WeightsOrigin.EXERCISE
    page.get_by_role("link", name="Job description").click()
    expect(page.get_by_role("heading", name=re.compile(TITLE))).to_be_visible()
    assert download(page, "Word (DOCX)", tmp_path).startswith(b"PK")
    assert download(page, "PDF", tmp_path).startswith(b"%PDF-")
    assert errors == []
