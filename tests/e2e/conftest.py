"""A real browser (Debian's chromium through Playwright) against a live kamfit server."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make there are still synchronous, so Django's guard is lifted for them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (scripts/install-chromium)")
    profile = tempfile.mkdtemp(prefix="kamfit-chromium-")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    yield page
    context.close()
    assert errors == []


@pytest.fixture(autouse=True)
def _purge_published_versions_before_flush(transactional_db: None) -> Iterator[None]:
    """Clear frozen rows the way a purge does, so the test database flush may run."""
    yield
    from kamfit.assessments.models import Cycle
    from kamfit.audits.models import Audit
    from kamfit.frameworks.models import Framework
    from kamfit.frameworks.services import unfrozen
    from kamfit.profiles.models import Profile, WeightingExercise

    Audit.objects.all().delete()  # an audit protects the framework version it names
    with unfrozen("test teardown"):
        Cycle.objects.all().delete()  # submitted forms are frozen; a cycle protects its profile
        WeightingExercise.objects.all().delete()  # an exercise protects the version it weighs
        Profile.objects.all().delete()  # a profile version protects its framework version
        while Framework.objects.exists():  # copies first: a parent version is protected
            Framework.objects.exclude(
                pk__in=Framework.objects.filter(versions__copies__isnull=False).values("pk")
            ).delete()
