"""Pages for background jobs: the list, one job's progress (polled by htmx), a download."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from kamfit.auditlog.services import record as audit
from kamfit.jobs.models import Job, JobKind, JobStatus
from kamfit.jobs.work import output_path
from kamfit.orgs.access import access_job, list_jobs
from kamfit.orgs.decorators import org_view
from kamfit.orgs.models import Membership
from kamfit.web.export_limit import export_limited

LIST_SIZE = 100


def result_url(job: Job) -> str:
    """Where the outcome of a finished job is seen."""
    slug = job.organisation.slug
    if job.kind == JobKind.TEAM_REPORT and job.output:
        return reverse("jobs:download", args=[slug, job.pk])
    if job.kind in {JobKind.IMPORT_RATINGS, JobKind.REMINDERS} and job.params.get("cycle"):
        return reverse("assessments:cycle", args=[slug, job.params["cycle"]])
    return reverse("assessments:people", args=[slug])


@require_GET
@org_view
def job_list(request: HttpRequest, m: Membership) -> HttpResponse:
    jobs = list(list_jobs(m).select_related("created_by")[:LIST_SIZE])
    return render(request, "jobs/list.html", {"membership": m, "org": m.organisation, "jobs": jobs})


@require_GET
@org_view
def job_detail(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    """One job; while it runs, htmx asks again every 2 seconds for the status part alone."""
    job = access_job(m, pk)
    context = {
        "membership": m,
        "org": m.organisation,
        "job": job,
        "result_url": result_url(job) if job.status == JobStatus.DONE else "",
        "problems": job.result.get("problems", []) if job.status == JobStatus.FAILED else [],
    }
    template = "jobs/_status.html" if getattr(request, "htmx", False) else "jobs/job.html"
    return render(request, template, context)


@require_GET
@export_limited()
@org_view
def job_download(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    """The file a report job wrote, as an attachment, to those who may see the job."""
    job = access_job(m, pk)
    if job.kind != JobKind.TEAM_REPORT or job.status != JobStatus.DONE or not job.output:
        raise Http404("No file for this job")
    path = output_path(job.output)
    if not path.is_file():
        raise Http404("The file was deleted")
    audit(
        "export.downloaded",
        request=request,
        organisation=m.organisation,
        target=job,
        data={"what": "job_report", "kind": job.kind},
    )
    return FileResponse(path.open("rb"), as_attachment=True, filename=job.filename)  # type: ignore[return-value]
