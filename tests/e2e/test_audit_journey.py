"""Open a readiness audit, answer it as a member and by private link, read the results."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from kamfit.audits.models import Audit, AuditItem, Rating, Respondent, RespondentStatus
from kamfit.orgs.models import Role as OrgRole
from tests.conftest import Personas
from tests.e2e.journey import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "KAM readiness, spring 2027"
COMMENT = "Decisions get reopened at every quarterly review."


def watch(page: Page, errors: list[str]) -> Page:
    """Record JavaScript errors, dialogs and console errors (the browser's own favicon aside)."""

    def console(msg: ConsoleMessage) -> None:
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"console: {msg.text} {msg.location}")

    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    page.on("console", console)
    return page


def rate(page: Page, texts: list[str], label: str) -> None:
    for text in texts:
        page.get_by_label(f"{label}: {text}", exact=True).check()


def test_director_runs_an_audit_with_a_member_and_an_outsider(
    page: Page, browser: Browser, live_server: object, personas: Personas
) -> None:
    base = str(live_server)
    errors: list[str] = []
    watch(page, errors)
    a = personas.a
    a.org.min_group_size = 3  # the organisation's k is a floor for the audit's (issue 5)
    a.org.save(update_fields=["min_group_size"])
    sign_in(page, base, a.users[OrgRole.DIRECTOR].get_username())

    # Open a full-scope audit on the organisation's published framework, two role elements.
    page.get_by_role("link", name="Readiness audits").click()
    expect(page.get_by_role("heading", name="Organisation readiness")).to_be_visible()
    page.get_by_role("link", name="Open a new audit").click()
    page.get_by_label("Framework version").select_option(label="Alpha KAM framework v1")
    page.get_by_role("button", name="Choose").click()
    page.get_by_label("Title").fill(TITLE)
    # No score is shown before this many have answered; three people answer below.
    page.get_by_label("Smallest group shown in results by department").fill("3")
    expect(
        page.get_by_label("Litmus test and company responsibilities of chosen role elements")
    ).to_be_checked()
    page.get_by_label("Risk — Managing major source of risk").check()
    page.get_by_label("Credibility — Providing suppliers’ credibility with customers").check()
    page.get_by_role("button", name="Open the audit").click()
    expect(page.get_by_text(f"Opened “{TITLE}”. Now invite respondents.")).to_be_visible()
    expect(page.get_by_text(re.compile("15 questions · on Alpha KAM framework v1"))).to_be_visible()

    # Invite the HR user (Finance) and an outsider by private link.
    hr = a.users[OrgRole.HR].get_username()
    page.get_by_label("Member", exact=True).select_option(label=hr)
    page.get_by_label("Department of the member").select_option(label="Finance")
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.get_by_text(f"Invited {hr}.")).to_be_visible()
    page.get_by_label("Name of the respondent").fill("Olivia Outsider")
    page.get_by_label("Department of the respondent").select_option(
        label="Supply chain & operations"
    )
    page.get_by_role("button", name="Create link").click()
    expect(page.get_by_text("Private link for Olivia Outsider")).to_be_visible()
    link = page.get_by_label("Private answer link").input_value()
    assert re.fullmatch(rf"{re.escape(base)}/r/[\w-]{{40,}}/", link)
    expect(page.get_by_role("cell", name="Olivia Outsider", exact=True)).to_be_visible()
    page.get_by_label("Name of the respondent").fill("Peter Outsider")
    page.get_by_label("Department of the respondent").select_option(label="Sales")
    page.get_by_role("button", name="Create link").click()
    second_link = page.get_by_label("Private answer link").input_value()
    assert second_link != link
    expect(page.get_by_text("0 of 3 submitted")).to_be_visible()

    audit = Audit.objects.get(title=TITLE)
    texts = list(AuditItem.objects.filter(audit=audit).values_list("text", flat=True))
    assert len(texts) == 15

    # The HR user answers part, saves, comes back, finishes with a comment and submits.
    hr_page = watch(browser.new_context().new_page(), errors)
    sign_in(hr_page, base, hr)
    hr_page.get_by_role("link", name="Readiness audits").click()
    hr_page.get_by_role("listitem").get_by_role("link", name=TITLE).click()
    expect(hr_page.get_by_text("0 of 15 answered.")).to_be_visible()
    rate(hr_page, texts[:5], "Fair")
    hr_page.get_by_role("button", name="Save and continue later").click()
    expect(hr_page.get_by_text("Answers saved.")).to_be_visible()
    hr_page.get_by_role("link", name="Frameworks", exact=True).click()
    hr_page.get_by_role("link", name="Readiness audits").click()
    hr_page.get_by_role("listitem").get_by_role("link", name=TITLE).click()
    expect(hr_page.get_by_text("5 of 15 answered.")).to_be_visible()
    expect(hr_page.get_by_label(f"Fair: {texts[0]}", exact=True)).to_be_checked()
    rate(hr_page, texts[5:], "Good")
    hr_page.get_by_label(f"Comment on: {texts[0]}").fill(COMMENT)
    hr_page.get_by_role("button", name="Submit my answers").click()
    expect(hr_page.get_by_text("Thank you: your answers are submitted.")).to_be_visible()
    expect(hr_page.get_by_text(re.compile("your answers are final"))).to_be_visible()
    expect(hr_page.get_by_role("button", name="Submit my answers")).to_have_count(0)
    expect(hr_page.get_by_label(f"Good: {texts[-1]}", exact=True)).to_be_disabled()
    hr_page.context.close()

    # The outsider opens the private link without signing in and answers everything.
    outsider = watch(browser.new_context().new_page(), errors)
    outsider.goto(link)
    expect(outsider.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(outsider.get_by_role("link", name="Readiness audits")).to_have_count(0)
    expect(outsider.get_by_text(COMMENT)).to_have_count(0)
    rate(outsider, texts[:3], "Don't know")
    rate(outsider, texts[3:], "Poor")
    outsider.get_by_role("button", name="Submit my answers").click()
    expect(outsider.get_by_text("Thank you: your answers are submitted.")).to_be_visible()
    outsider.context.close()

    # A second outsider knows nothing: "Don't know" everywhere changes no score.
    second = watch(browser.new_context().new_page(), errors)
    second.goto(second_link)
    rate(second, texts, "Don't know")
    second.get_by_role("button", name="Submit my answers").click()
    expect(second.get_by_text("Thank you: your answers are submitted.")).to_be_visible()
    second.context.close()

    # The director reads the results: no department is large enough to be shown.
    page.reload()
    expect(page.get_by_text("3 of 3 submitted")).to_be_visible()
    page.get_by_role("link", name="Results").click()
    expect(page.get_by_role("heading", name=f"Readiness: {TITLE}")).to_be_visible()
    expect(page.get_by_text(re.compile(r"3 of 3 respondents submitted"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"response rate 100%"))).to_be_visible()
    litmus = page.get_by_role("table").filter(has_text="Supplier organisations need to…")
    expect(litmus.get_by_role("row")).to_have_count(8)
    # "Take decisions": Fair from HR, Don't know from both outsiders — 50, not 17.
    decisions = litmus.get_by_role("row").filter(has_text=texts[0])
    expect(decisions.get_by_role("cell")).to_have_text(
        ["Take decisions and follow them through", "50", "0", "1", "0", "2"]
    )
    expect(page.get_by_role("heading", name="By role of KAM")).to_be_visible()
    elements = page.get_by_role("table").filter(has_text="Company readiness")
    expect(elements.get_by_role("row")).to_have_count(3)
    expect(
        elements.get_by_role("row").filter(has_text="Risk — Managing major source of risk")
    ).to_contain_text("50")
    expect(
        elements.get_by_role("row").filter(
            has_text="Credibility — Providing suppliers’ credibility"
        )
    ).to_contain_text("50")
    expect(page.get_by_text(re.compile("No breakdown by department is shown"))).to_be_visible()
    expect(
        page.get_by_role("columnheader", name=re.compile("Finance|Supply chain|Other departments"))
    ).to_have_count(0)
    expect(page.get_by_text(COMMENT)).to_have_count(0)
    expect(page.get_by_text(re.compile(r"Woodburn, D\. \(2006\)"))).to_be_visible()

    assert set(Respondent.objects.filter(audit=audit).values_list("status", flat=True)) == {
        RespondentStatus.SUBMITTED
    }
    assert audit.items.filter(answers__rating=Rating.DONT_KNOW).count() == 3 + 15
    assert errors == []
