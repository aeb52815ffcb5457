"""Export audit results and anonymised answers; import answers collected on paper.

Uploads are held in memory only, and never kept beyond the request (RELIABILITY A29–A31):
a request whose body is larger than the limit is refused before it is read, and a
file that turns out larger is dropped while it streams in.
"""

from __future__ import annotations

from contextlib import suppress
from io import BytesIO
from typing import Any

from django.contrib import messages
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from kamfit.auditlog.services import record
from kamfit.audits import exchange, services
from kamfit.audits.models import Audit
from kamfit.audits.queries import get_audit_results
from kamfit.domain.errors import NotPermitted, ValidationError
from kamfit.orgs.access import access_audit
from kamfit.orgs.decorators import org_view
from kamfit.orgs.models import Membership
from kamfit.spreadsheets import TooLarge, too_large
from kamfit.uploads import read_upload, rejections
from kamfit.web.export_limit import export_limited

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXPORTS = {"results": ("csv", "xlsx"), "answers": ("csv", "xlsx"), "template": ("xlsx",)}
FORM_OVERHEAD = 64 * 1024  # multipart boundaries, headers and the CSRF field


def _too_large() -> str:
    return str(too_large().problems[0])


def _export_bytes(audit: Audit, what: str, fmt: str) -> bytes:
    if what == "template":
        return exchange.paper_template(audit)
    if what == "results":
        header, rows = exchange.results_table(get_audit_results(audit))
        sheet = "Results"
    else:
        header, rows = exchange.answers_table(audit)
        sheet = "Answers"
    if fmt == "csv":
        return exchange.to_csv(header, rows)
    return exchange.to_xlsx(header, rows, sheet=sheet)


@require_GET
@export_limited(when=lambda url: url.get("what") != "template")  # a blank sheet holds no data
@org_view
def export(request: HttpRequest, m: Membership, pk: int, what: str, fmt: str) -> HttpResponse:
    if fmt not in EXPORTS.get(what, ()):
        raise Http404("No such export")
    audit = access_audit(m, pk, action="manage")
    response = HttpResponse(_export_bytes(audit, what, fmt), content_type=CONTENT_TYPES[fmt])
    if what != "template":  # the blank answer sheet holds nobody's data
        record(
            "export.downloaded",
            request=request,
            organisation=m.organisation,
            target=audit,
            data={"what": f"audit_{what}", "format": fmt},
        )
    filename = f"audit-{audit.pk}-{what}.{fmt}"  # chosen by the server, never by a user
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class MemoryOnlyUploadHandler(FileUploadHandler):
    """Keep the upload named ``file`` in memory, up to one byte past the limit; never on disk.

    Past the limit the rest is read from the request and dropped, and the file's ``size``
    tells the whole length, so the view can refuse it.
    """

    def __init__(self, request: HttpRequest, limit: int | None = None) -> None:
        super().__init__(request)
        self.limit = exchange.max_upload_bytes() if limit is None else limit
        self.kept = bytearray()
        self.seen = 0
        self.wanted = False

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.wanted = field_name == "file" and not self.kept and not self.seen

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self.wanted:
            self.seen += len(raw_data)
            room = self.limit + 1 - len(self.kept)
            if room > 0:
                self.kept += raw_data[:room]
        # Returning None: no later handler (and no temporary file) sees the data.

    def file_complete(self, file_size: int) -> InMemoryUploadedFile | None:
        if not self.wanted:
            return None
        self.wanted = False
        upload = InMemoryUploadedFile(
            file=BytesIO(bytes(self.kept)),
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=self.seen,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
        return upload


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # the multipart parser refuses it


def _refused(
    request: HttpRequest, m: Membership, audit: Audit, problems: list[str], status: int = 400
) -> HttpResponse:
    return render(
        request,
        "audits/import_failed.html",
        {"membership": m, "org": m.organisation, "audit": audit, "problems": problems},
        status=status,
    )


@csrf_exempt  # checked below, once the upload handler is in place (it reads the body)
@require_POST
@org_view
def import_answers(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    """Import answers collected on paper (CSV or XLSX), all or nothing."""
    audit = access_audit(m, pk, action="manage")  # 404 / 403 before the body is read
    if _content_length(request) > exchange.max_upload_bytes() + FORM_OVERHEAD:
        with suppress(ValidationError), rejections("audit_answers", organisation=m.organisation):
            raise too_large()
        return _refused(request, m, audit, [_too_large()], 413)  # refused unread
    request.upload_handlers = [MemoryOnlyUploadHandler(request)]
    return _import_checked(request, m, audit)


@csrf_protect
def _import_checked(request: HttpRequest, m: Membership, audit: Audit) -> HttpResponse:
    detail = reverse("audits:detail", args=[m.organisation.slug, audit.pk])
    if not audit.is_open:
        messages.error(request, "This audit is closed: it takes no more answers.")
        return redirect(detail)
    upload = request.FILES.get("file")
    if upload is None:
        return _refused(request, m, audit, ["file: choose a CSV or XLSX file to import"])
    try:
        with rejections("audit_answers", organisation=m.organisation):
            data = read_upload(upload)
            responses = exchange.read_paper_answers(audit, data, upload.name or "")
            count = services.import_paper_answers(audit=audit, responses=responses)
    except TooLarge:
        return _refused(request, m, audit, [_too_large()], 413)
    except ValidationError as exc:
        return _refused(request, m, audit, [str(p) for p in exc.problems])
    except NotPermitted as exc:
        messages.error(request, str(exc))
        return redirect(detail)
    messages.success(
        request, f"Imported {count} paper response{'' if count == 1 else 's'} as submitted."
    )
    return redirect(detail)
