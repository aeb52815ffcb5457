"""gunicorn's access log without the secrets a URL carries (A36).

A readiness-audit respondent link (``/r/<token>/``) and an invitation link
(``/invite/<token>/``) are the credential itself: a request line or a Referer in the
access log would hand it to whoever reads the log. ``kamfit serve --production`` passes
``--logger-class kamfit.auditlog.gunicorn.RedactingLogger``.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from kamfit.auditlog.logfilters import redact

__all__ = ["RedactingLogger"]


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with link tokens blanked in every access-log field."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """Return gunicorn's fields (request line, path, query, headers) redacted."""
        fields: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in fields.items()
        }
