"""The audit trail app."""

from __future__ import annotations

from django.apps import AppConfig


class AuditLogConfig(AppConfig):
    name = "kamfit.auditlog"
    label = "auditlog"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        """Connect the membership signals; escape and redact every log record (A36)."""
        from django.core.signals import request_finished  # noqa: PLC0415

        from kamfit.auditlog import signals  # noqa: F401, PLC0415
        from kamfit.auditlog.context import forget_request  # noqa: PLC0415
        from kamfit.auditlog.logfilters import install_record_factory  # noqa: PLC0415

        install_record_factory()
        request_finished.connect(forget_request, dispatch_uid="auditlog_forget_request")
