"""A corpus of stored-XSS payloads and the browser checks the XSS test applies to a page.

Each payload is short enough for a 200-character name and avoids ``;`` (the key-account
separator of the people CSV) so that it is stored whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.sync_api import ConsoleMessage, Dialog, Page

PAYLOADS: tuple[str, ...] = (
    '"><img src=x onerror=alert(1)>',
    "'><img src=x onerror=alert(2)>",
    "</script><script>alert(3)</script>",
    "<script>alert(4)</script>",
    "<svg onload=alert(5)>",
    "<svg><script>alert(6)</script></svg>",
    "javascript:alert(7)",
    "JaVaScRiPt:alert(8)//",
    "<a href=javascript:alert(9)>click</a>",
    "<iframe src=javascript:alert(10)></iframe>",
    "<body onload=alert(11)>",
    "<details open ontoggle=alert(12)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(13)>",
    "{{7*7}} {% debug %}",
    "{% load static %}{{ request.META }}",
    "'-alert(14)-'",
    '\\";alert(15)//',
    "${alert(16)} `${7*7}`",
    '=HYPERLINK("http://x.invalid","c")',
    "+1+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\u202egnp.exe \u200b\u2066admin\u2069",
    "<style>*{display:none}</style>",
    "<base href=//x.invalid/>",
    "<input autofocus onfocus=alert(17)>",
    "&lt;b&gt;escaped twice&lt;/b&gt; &amp;amp;",
)


def normalise(text: str) -> str:
    """Collapse whitespace, as a browser's rendered text does."""
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Watch:
    """What happened in the browser while the pages were visited."""

    dialogs: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pages: int = 0

    def attach(self, page: Page) -> None:
        """Count dialogs (and dismiss them), CSP violations and script errors."""

        def on_dialog(dialog: Dialog) -> None:
            self.dialogs.append(f"{page.url}: {dialog.message}")
            dialog.dismiss()

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text or "Content-Security-Policy" in (
                message.text
            ):
                self.csp.append(f"{page.url}: {message.text}")

        page.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation',"
            " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI))"
        )
        page.on("dialog", on_dialog)
        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))


# Elements a payload would create if it were parsed as markup.
INJECTED = (
    "img[src='x'], svg[onload], [onerror], [onload]:not(body), [ontoggle], [onfocus], "
    "iframe, base, main style, a[href^='javascript' i]"
)


def visit(page: Page, url: str, watch: Watch) -> str:
    """Open a page, wait for it to settle and return its rendered text."""
    response = page.goto(url)
    assert response is not None and response.status < 400, (url, response and response.status)
    page.wait_for_load_state("load")
    watch.pages += 1
    injected = page.locator(INJECTED).count()
    assert injected == 0, f"{url}: {injected} element(s) made from user text"
    # A CSP violation also reaches the page as an event: count those too.
    watch.csp += [f"{url}: {v}" for v in page.evaluate("window.__csp || []")]
    return normalise(page.inner_text("body"))
