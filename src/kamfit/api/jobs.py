"""REST endpoints for background jobs, and the 202 answer of an import sent to one.

A job is seen by the member who started it and by the organisation's owner and HR;
anyone else gets 404, as for every other object out of reach.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kamfit.api.fields import Choice, Text, Whole
from kamfit.assessments.models import Cycle
from kamfit.jobs import services as jobs
from kamfit.jobs.models import Job, JobKind, JobStatus
from kamfit.jobs.views import result_url
from kamfit.orgs.access import access_job, access_membership, list_jobs
from kamfit.orgs.models import Membership

JOB_TAGS = ["jobs"]


class JobSerializer(serializers.Serializer):
    id = Whole()
    kind = Choice(enum="JobKindEnum", choices=JobKind.choices)
    status = Choice(enum="JobStatusEnum", choices=JobStatus.choices)
    done = Whole(help_text="Rows (or e-mails) done so far")
    total = Whole(help_text="Rows (or e-mails) in all; 0 while not known")
    message = Text()
    result = serializers.DictField(
        help_text=(
            "When done: counts (e.g. created/updated, forms, stored, sent). When an import "
            "failed: problems (at most 1,000, each 'row N, column X: reason') and count"
        )
    )
    filename = Text()
    created_by = Text(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField(help_text="This job in the API")
    page = serializers.SerializerMethodField(help_text="This job's web page (shows progress)")
    download = serializers.SerializerMethodField(
        help_text="A finished report's file (an attachment), else null"
    )

    def get_url(self, job: Job) -> str:
        return reverse("api:job", args=[job.organisation.slug, job.pk])

    def get_page(self, job: Job) -> str:
        return reverse("jobs:job", args=[job.organisation.slug, job.pk])

    def get_download(self, job: Job) -> str | None:
        if job.status == JobStatus.DONE and job.kind == JobKind.TEAM_REPORT and job.output:
            return result_url(job)
        return None


def accepted(job: Job) -> Response:
    """202 Accepted: the job's state now, with its URL in ``Location``."""
    body = JobSerializer(job).data
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


def import_later(
    request: Request, m: Membership, kind: JobKind, cycle: Cycle | None = None
) -> Response | None:
    """Queue a large upload as a job and answer 202; None for a file imported at once."""
    upload = request.FILES.get("file")
    if upload is None or not jobs.runs_later(upload):
        return None
    job = jobs.start_import(
        organisation=m.organisation, actor=m.user, kind=kind, upload=upload, cycle=cycle
    )
    return accepted(job)


class JobList(generics.ListAPIView):
    """Background jobs you may see, newest first: yours, or all of them for owner and HR."""

    serializer_class = JobSerializer

    @extend_schema(tags=JOB_TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        m = access_membership(self.request.user, self.kwargs["org"])
        return list_jobs(m).select_related("organisation", "created_by")


class JobDetail(APIView):
    @extend_schema(tags=JOB_TAGS, responses=JobSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """One background job: its status, progress and, when finished, its result."""
        job = access_job(access_membership(request.user, org), pk)
        return Response(JobSerializer(job).data)
