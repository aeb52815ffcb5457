"""Who sees a job: its creator, and the organisation's owner and HR; others get 404."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kamfit.jobs import services as jobs
from kamfit.jobs.models import Job, JobKind, JobStatus
from kamfit.orgs.models import Role
from tests.conftest import Personas, Team
from tests.web.jobs.conftest import csv_upload, rating_rows

pytestmark = pytest.mark.usefixtures("immediate")
API = "/api/v1/organisations"


def director_job(team: Team) -> Job:
    return jobs.start_import(
        organisation=team.side.org,
        actor=team.side.users[Role.DIRECTOR],
        kind=JobKind.IMPORT_RATINGS,
        upload=csv_upload(rating_rows(team)),
        cycle=team.cycle,
    )


@pytest.mark.parametrize(
    ("role", "code"),
    [
        (Role.DIRECTOR, 200),  # started it
        (Role.OWNER, 200),
        (Role.HR, 200),
        (Role.CONSULTANT, 404),  # manages people, but not this job
        (Role.MANAGER, 404),
        (Role.PARTICIPANT, 404),
    ],
)
def test_a_job_is_seen_by_its_creator_owner_and_hr_only(team: Team, role: Role, code: int) -> None:
    job = director_job(team)
    client = team.side.client(role)
    assert client.get(reverse("jobs:job", args=["alpha", job.pk])).status_code == code
    assert client.get(f"{API}/alpha/jobs/{job.pk}/").status_code == code
    listed = {row["id"] for row in client.get(f"{API}/alpha/jobs/").json()["results"]}
    assert (job.pk in listed) == (code == 200)
    page = client.get(reverse("jobs:list", args=["alpha"])).content.decode()
    assert (f"/jobs/{job.pk}/" in page) == (code == 200)


def test_another_organisation_gets_404_for_a_job(team: Team, personas: Personas) -> None:
    job = director_job(team)
    beta = personas.b.client(Role.OWNER)
    assert beta.get(reverse("jobs:job", args=["beta", job.pk])).status_code == 404
    assert beta.get(reverse("jobs:job", args=["alpha", job.pk])).status_code == 404
    assert beta.get(f"{API}/beta/jobs/{job.pk}/").status_code == 404
    assert beta.get(f"{API}/alpha/jobs/{job.pk}/").status_code == 404
    assert Client().get(reverse("jobs:job", args=["alpha", job.pk])).status_code == 302


def test_the_api_job_tells_status_progress_and_result(team: Team) -> None:
    job = director_job(team)
    body = team.side.client(Role.HR).get(f"{API}/alpha/jobs/{job.pk}/").json()
    assert body["status"] == "done"
    assert body["kind"] == "import_ratings"
    assert (body["done"], body["total"]) == (33, 33)
    assert body["result"]["forms"] == 3
    assert body["url"] == f"{API}/alpha/jobs/{job.pk}/"
    assert body["page"] == f"/o/alpha/jobs/{job.pk}/"
    assert body["download"] is None
    assert body["created_by"] == team.side.users[Role.DIRECTOR].username


@pytest.mark.usefixtures("everything_later")
def test_an_api_import_of_a_large_file_answers_202_with_the_job(team: Team) -> None:
    client = team.side.client(Role.HR)
    response = client.post(
        f"{API}/alpha/cycles/{team.cycle.pk}/ratings/import/",
        {"file": csv_upload(rating_rows(team))},
    )
    assert response.status_code == 202
    job = Job.objects.get()
    assert response["Location"] == f"{API}/alpha/jobs/{job.pk}/"
    assert response.json()["status"] == JobStatus.DONE  # the immediate backend ran it


def test_a_small_api_import_still_answers_at_once(team: Team) -> None:
    response = team.side.client(Role.HR).post(
        f"{API}/alpha/cycles/{team.cycle.pk}/ratings/import/",
        {"file": csv_upload(rating_rows(team))},
    )
    assert response.status_code == 200
    assert response.json() == {"stored": 3}
    assert not Job.objects.exists()


def test_the_schema_documents_the_jobs_endpoints_and_the_202(team: Team) -> None:
    import yaml

    schema = yaml.safe_load(team.side.client(Role.HR).get("/api/v1/schema/").content)
    org = "/api/v1/organisations/{org}/"
    assert {f"{org}jobs/", f"{org}jobs/{{id}}/"} <= set(schema["paths"])
    answers = schema["paths"][f"{org}cycles/{{id}}/ratings/import/"]["post"]["responses"]
    assert {"200", "202"} <= set(answers)
    components = schema["components"]["schemas"]
    assert components["JobStatusEnum"]["enum"] == ["queued", "running", "done", "failed"]
    assert "import_ratings" in components["JobKindEnum"]["enum"]


def test_the_job_page_polls_while_running_and_links_the_result_when_done(team: Team) -> None:
    job = director_job(team)
    client = team.side.client(Role.HR)
    url = reverse("jobs:job", args=["alpha", job.pk])
    done = client.get(url).content.decode()
    assert "<html" in done
    assert 'hx-trigger="every 2s"' not in done
    assert reverse("assessments:cycle", args=["alpha", team.cycle.pk]) in done
    assert "htmx-2.min.js" in done
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, done=10, total=40)
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
    assert 'hx-trigger="every 2s"' in fragment
    assert f'hx-get="{url}"' in fragment
    assert 'value="10"' in fragment
    assert "10 of 40" in fragment


def test_a_failed_job_page_lists_the_problems(team: Team) -> None:
    rows = rating_rows(team)
    rows[0][1] = "stranger"
    job = jobs.start_import(
        organisation=team.side.org,
        actor=team.side.users[Role.HR],
        kind=JobKind.IMPORT_RATINGS,
        upload=csv_upload(rows),
        cycle=team.cycle,
    )
    page = team.side.client(Role.HR).get(reverse("jobs:job", args=["alpha", job.pk]))
    assert "row 2, column rater: &#x27;stranger&#x27; is not a member" in page.content.decode()
