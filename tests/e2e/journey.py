"""Steps the browser journeys share."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD


def sign_in(page: Page, base: str, username: str) -> None:
    """Sign in through the login form and wait for the landing page."""
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Frameworks", exact=True)).to_be_visible()
