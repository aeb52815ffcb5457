"""Logging filters: the request id on every record, and log lines that cannot be forged.

``EscapeControlCharacters`` formats the message once, escapes CR, LF and every other
control character (so user input cannot start a fake log line, A36), and blanks the
secrets a URL can carry: respondent links ``/r/<token>/``, invitation links
``/invite/<token>/`` and API tokens ``kf_…``.
"""

from __future__ import annotations

import logging
import re

from kamfit.auditlog import context

__all__ = ["EscapeControlCharacters", "RequestIdFilter", "redact"]

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
LINK_TOKEN = re.compile(r"/(r|invite)/[^/\s?#\"']+")
API_TOKEN = re.compile(r"kf_[A-Za-z0-9_\-]{20,}")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}")


def redact(text: str) -> str:
    """Blank respondent and invitation link tokens and API tokens in ``text``."""
    text = LINK_TOKEN.sub(r"/\1/[redacted]", text)
    return API_TOKEN.sub("kf_[redacted]", text)


class EscapeControlCharacters(logging.Filter):
    """Escape control characters and redact URL secrets in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: keep the raw parts
            message = f"{record.msg!r} {record.args!r}"
        record.msg = CONTROL.sub(_escape, redact(message))
        record.args = None
        return True


class RequestIdFilter(logging.Filter):
    """Put the current request's id on the record as ``request_id`` ('-' outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context.current()
        record.request_id = ctx.request_id if ctx is not None else "-"
        return True


_installed = False


def install_record_factory() -> None:
    """Escape and redact every log record as it is made, whichever handler takes it.

    Handler filters only run for the handlers configured in ``LOGGING``; a handler
    added later (an operator's, a test's ``caplog``) would see the raw message. The
    message is formatted only for records a logger lets through (its level allows it).
    """
    global _installed  # noqa: PLW0603 - the process-wide factory is installed once
    if _installed:
        return
    make = logging.getLogRecordFactory()
    escape = EscapeControlCharacters()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make(*args, **kwargs)
        escape.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
