"""T8, A13: stored XSS payloads, written through forms, the API and CSV import, stay text.

Each payload of the corpus goes into each user-writable text field named below, through
the channel people use for it: the people CSV import (web page), the API (cycles,
quick checks, plan actions), the rating form, and the services behind the profile and
audit forms; competency text of a framework draft is saved directly on the model. Then
Debian chromium visits every page that shows them, as HR and as the rater. Pass: no
dialog, no CSP violation, no script error, no element made from user text, and every
payload shown as literal text (also in the job description PDF).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, expect

from kamfit.assessments.models import Cycle, Person, QuickCheck, Rating
from kamfit.audits import services as audit_services
from kamfit.development import services as development_services
from kamfit.development.models import Action, Plan
from kamfit.frameworks.models import Competency
from kamfit.jobs import services as job_services
from kamfit.orgs.models import Role
from kamfit.profiles import services as profile_services
from tests.conftest import Team
from tests.e2e.xss import PAYLOADS, Watch, normalise, visit
from tests.web.profiles.test_documents import pdf_text

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
N = len(PAYLOADS)


def _signed_in(browser: Browser, base: str, client: Client) -> BrowserContext:
    """A browser context holding the Django test client's session cookie."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    cookies = [{"name": k, "value": v.value, "url": base} for k, v in client.cookies.items()]
    context.add_cookies(cookies)  # type: ignore[arg-type]
    return context


def _client(team: Team, role: Role) -> Client:
    client = Client()
    client.force_login(team.side.users[role])
    return client


def _write_people_by_csv(client: Client, team: Team) -> list[Person]:
    """Import N people whose text fields hold the payloads, rotated across fields."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", "name", "job_title", "unit", "background_note", "accounts"])
    for i in range(N):
        writer.writerow(
            [f"xss-{i}", *(PAYLOADS[(i + k) % N] for k in range(4)), PAYLOADS[(i + 4) % N]]
        )
    upload = SimpleUploadedFile("people.csv", out.getvalue().encode(), "text/csv")
    response = client.post(
        f"/o/{team.side.org.slug}/people/import/", {"file": upload, "what": "people"}
    )
    assert response.status_code == 302
    people = list(Person.objects.filter(reference__startswith="xss-").order_by("reference"))
    assert len(people) == N, "the import refused a payload"
    return people


def _write_through_api(client: Client, team: Team, people: list[Person]) -> list[Cycle]:
    org = team.side.org.slug
    api = f"/api/v1/organisations/{org}"
    for i, person in enumerate(people):
        response = client.post(
            f"{api}/people/{person.pk}/quick-checks/",
            {"answers": {"top-decision-makers": True}, "note": PAYLOADS[i]},
            content_type="application/json",
        )
        assert response.status_code in (200, 201), response.content
    cycles = []
    for i in range(N):
        response = client.post(
            f"{api}/cycles/",
            {
                "title": PAYLOADS[i],
                "note": PAYLOADS[(i + 1) % N],
                "profile": team.profile.profile_id,
                "version": team.profile.number,
            },
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        cycles.append(Cycle.objects.get(pk=response.json()["id"]))
    return cycles


def _write_evidence_by_form(team: Team) -> None:
    """The line manager rates Pat through the rating form, with payloads as evidence."""
    manager = team.side.users[Role.MANAGER]
    rater = team.rater(team.kam, manager)
    keys = list(team.answers(1))
    post: dict[str, str] = {"action": "submit"}
    for j, key in enumerate(keys):
        post[f"level-{key}"] = "2"
        post[f"evidence-{key}"] = PAYLOADS[j % N]
    client = _client(team, Role.MANAGER)
    response = client.post(f"/o/{team.side.org.slug}/assessments/rate/{rater.pk}/", post)
    assert response.status_code == 302
    assert Rating.objects.filter(evidence__in=PAYLOADS).count() == len(keys)


def _write_plan_actions(client: Client, team: Team) -> Plan:
    hr = team.side.users[Role.HR]
    for peer in team.peers:
        team.submit(team.kam, peer, 3)
    plan = development_services.create_plan(team.assessee(team.kam), hr, title=PAYLOADS[0])
    key = next(iter(team.answers(1)))
    api = f"/api/v1/organisations/{team.side.org.slug}/plans/{plan.pk}/actions/"
    for i in range(N):
        response = client.post(
            api,
            {
                "competency": key,
                "title": PAYLOADS[i],
                "description": PAYLOADS[(i + 2) % N],
                "action_type": "coaching",
            },
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
    return plan


def _write_profile_and_framework(team: Team) -> tuple[str, str]:
    director = team.side.users[Role.DIRECTOR]
    draft = profile_services.start_new_draft(team.profile.profile, director)
    profile_services.update_details(
        draft, title=PAYLOADS[2], summary="\n\n".join(PAYLOADS), note=PAYLOADS[5]
    )
    org = team.side.org.slug
    profile_url = f"/o/{org}/profiles/{draft.profile_id}/v{draft.number}/"
    # Competency text of a framework draft, saved on the model as the editor stores it.
    fw_draft = team.side.draft
    competencies = list(Competency.objects.filter(version=fw_draft).order_by("pk")[:N])
    for i, competency in enumerate(competencies):
        competency.name = PAYLOADS[i][:200]
        competency.description = PAYLOADS[(i + 3) % N]
        competency.save(update_fields=["name", "description"])
    fw_url = f"/o/{org}/frameworks/{team.side.framework.pk}/v/{fw_draft.number}/competencies/"
    for payload in PAYLOADS:  # the new-audit form's service
        audit_services.open_audit(
            organisation=team.side.org,
            user=director,
            version=team.side.published,
            title=payload,
            element_keys=["credibility"],
        )
    return profile_url, fw_url


def _visible(text: str) -> str:
    """Text without whitespace and invisible format characters (bidi, zero-width).

    A PDF draws glyphs in visual order: the bidi controls are applied, not drawn.
    """
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


def _in_pdf(payload: str, text: str) -> bool:
    """Whether the PDF text shows the payload; a right-to-left override reverses a run."""
    if _visible(payload) in text:
        return True
    runs = re.split(r"[\s\u200b-\u200f\u202a-\u202e\u2066-\u2069]+", payload)
    return all(run in text or run[::-1] in text for run in runs if run)


@pytest.fixture
def watch() -> Iterator[Watch]:
    yield Watch()


def test_stored_payloads_stay_text_in_every_page(
    browser: Browser, live_server: object, team: Team, watch: Watch
) -> None:
    base = str(live_server)
    org = team.side.org.slug
    hr = _client(team, Role.HR)
    people = _write_people_by_csv(hr, team)
    cycles = _write_through_api(hr, team, people)
    _write_evidence_by_form(team)
    plan = _write_plan_actions(hr, team)
    profile_url, fw_url = _write_profile_and_framework(team)
    assert QuickCheck.objects.filter(note__in=PAYLOADS).count() == N
    assert Action.objects.filter(plan=plan, title__in=PAYLOADS).count() == N

    context = _signed_in(browser, base, hr)
    page = context.new_page()
    watch.attach(page)
    shown: dict[str, str] = {}
    pages = [
        f"/o/{org}/people/",
        *(f"/o/{org}/people/{p.pk}/" for p in people),
        f"/o/{org}/assessments/",
        *(f"/o/{org}/assessments/{c.pk}/" for c in cycles),
        f"/o/{org}/assessments/{team.cycle.pk}/team/",
        f"/o/{org}/assessments/{team.cycle.pk}/people/{team.kam.pk}/",
        f"/o/{org}/development/",
        f"/o/{org}/development/{plan.pk}/",
        profile_url,
        f"{profile_url}job-description/",
        f"/o/{org}/profiles/",
        fw_url,
        f"/o/{org}/audits/",
        f"/o/{org}/jobs/",
    ]
    for url in pages:
        shown[url] = visit(page, base + url, watch)
    context.close()

    # Every payload appears as literal text where it is shown.
    people_list = shown[f"/o/{org}/people/"]
    missing = [p for p in PAYLOADS if normalise(p) not in people_list]
    assert missing == []
    for person in people:
        text = shown[f"/o/{org}/people/{person.pk}/"]
        accounts = [a.name for a in person.accounts.all()]
        note = QuickCheck.objects.get(person=person).note
        for value in (person.name, person.job_title, person.unit, note, *accounts):
            assert normalise(value) in text, (person.reference, value)
    cycle_list = shown[f"/o/{org}/assessments/"]
    assert [p for p in PAYLOADS if normalise(p) not in cycle_list] == []
    plan_text = shown[f"/o/{org}/development/{plan.pk}/"]
    assert [p for p in PAYLOADS if normalise(p) not in plan_text] == []
    assert [p for p in PAYLOADS if normalise(p) not in shown[fw_url]] == []
    audits = shown[f"/o/{org}/audits/"]
    assert [p for p in PAYLOADS if normalise(p) not in audits] == []
    for cycle in cycles:
        assert normalise(cycle.note) in shown[f"/o/{org}/assessments/{cycle.pk}/"]
    result = shown[f"/o/{org}/assessments/{team.cycle.pk}/people/{team.kam.pk}/"]
    evidence = Rating.objects.filter(evidence__in=PAYLOADS).values_list("evidence", flat=True)
    assert [e for e in evidence if normalise(e) not in result] == []

    # The job description PDF shows the summary's payloads as text.
    pdf = hr.get(f"{profile_url}job-description.pdf")
    assert pdf.status_code == 200
    text = _visible(pdf_text(pdf.content))
    assert [p for p in PAYLOADS if not _in_pdf(p, text)] == []

    # The rater sees their own evidence on the rating form.
    manager = _client(team, Role.MANAGER)
    context = _signed_in(browser, base, manager)
    page = context.new_page()
    watch.attach(page)
    rater = team.rater(team.kam, team.side.users[Role.MANAGER])
    visit(page, f"{base}/o/{org}/assessments/rate/{rater.pk}/", watch)
    context.close()

    print(  # the figures for the report
        f"XSS: {N} payloads, {watch.pages} page visits, {len(watch.dialogs)} dialogs, "
        f"{len(watch.csp)} CSP violations, {len(watch.errors)} script errors"
    )
    assert watch.dialogs == []
    assert watch.csp == []
    assert watch.errors == []


def test_api_docs_and_htmx_run_under_the_policy(
    browser: Browser, live_server: object, team: Team, watch: Watch
) -> None:
    """Swagger UI (sidecar assets, split init script) and htmx work with no violation."""
    base = str(live_server)
    hr = _client(team, Role.HR)
    job = job_services.start_team_report(
        cycle=team.cycle, actor=team.side.users[Role.HR], fmt="csv"
    )
    context = _signed_in(browser, base, hr)
    page = context.new_page()
    watch.attach(page)
    visit(page, f"{base}/api/v1/docs/", watch)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("kamfit API")
    expect(page.locator(".opblock").first).to_be_visible()
    visit(page, f"{base}/o/{team.side.org.slug}/jobs/{job.pk}/", watch)
    page.wait_for_function("window.htmx !== undefined")
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.locator("head style").count() == 0
    page.wait_for_timeout(2500)  # htmx polls the job status every 2 s
    watch.csp += [f"late: {v}" for v in page.evaluate("window.__csp || []")]
    context.close()
    assert (watch.dialogs, watch.csp, watch.errors) == ([], [], [])
