"""What every hardened response must carry, as functions the tests share."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as HttpResponse

NONCE = re.compile(r"'nonce-([A-Za-z0-9+/=]+)'")
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
STYLE_ATTR = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_TAG = re.compile(r"<style\b", re.IGNORECASE)
# An asset (script, stylesheet, image, font) loaded from anywhere but kamfit itself.
OUTSIDE_ASSET = re.compile(
    r"<(?:script|img|iframe|source)\b[^>]*\ssrc\s*=\s*[\"']?(?:https?:)?//"
    r"|<link\b[^>]*\shref\s*=\s*[\"']?(?:https?:)?//",
    re.IGNORECASE,
)


def directives(response: HttpResponse) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as directive → sources."""
    header = response.headers.get("Content-Security-Policy", "")
    parts = (p.strip().split() for p in header.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def problems(response: HttpResponse, *, authenticated: bool) -> list[str]:
    """Everything missing from a response's hardening; empty when it is all there."""
    found = []
    hsts = response.headers.get("Strict-Transport-Security", "")
    age = re.search(r"max-age=(\d+)", hsts)
    if not age or int(age.group(1)) < 31_536_000 or "includesubdomains" not in hsts.lower():
        found.append(f"HSTS {hsts!r}")
    csp = directives(response)
    for name in ("object-src", "base-uri", "frame-ancestors"):
        if csp.get(name) != ["'none'"]:
            found.append(f"CSP {name} {csp.get(name)}")
    script = csp.get("script-src", [])
    if not any(NONCE.fullmatch(s) for s in script) or "'unsafe-inline'" in script:
        found.append(f"CSP script-src {script}")
    if any("'unsafe-inline'" in v or "'unsafe-eval'" in v for k, v in _flat(csp)):
        found.append("CSP allows unsafe-inline or unsafe-eval")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        found.append("no nosniff")
    if not response.headers.get("Referrer-Policy"):
        found.append("no Referrer-Policy")
    if authenticated and "no-store" not in response.headers.get("Cache-Control", ""):
        found.append(f"Cache-Control {response.headers.get('Cache-Control')!r}")
    if response.headers.get("Content-Type", "").startswith("text/html") and not getattr(
        response, "streaming", False
    ):
        found += _html_problems(response, script)
    return found


def _flat(csp: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, values in csp.items() for v in values]


def _html_problems(response: HttpResponse, script_src: list[str]) -> list[str]:
    """Inline style, scripts without the nonce, or assets from other hosts in the page."""
    html = response.content.decode("utf-8", "replace")
    nonces = {m.group(1) for s in script_src if (m := NONCE.fullmatch(s))}
    found = []
    for tag in SCRIPT_TAG.findall(html):
        # kamfit's own templates put the nonce on every script; Django admin's scripts
        # are files of kamfit's own origin, which script-src 'self' allows.
        nonce = re.search(r'\snonce="([^"]*)"', tag)
        own_file = re.search(r'\ssrc="/(?!/)', tag)
        if not own_file and (not nonce or nonce.group(1) not in nonces):
            found.append(f"inline script without the nonce: {tag}")
    if STYLE_ATTR.search(html) or STYLE_TAG.search(html):
        found.append("inline style in the page")
    if match := OUTSIDE_ASSET.search(html):
        found.append(f"third-party asset: {match.group(0)}")
    return found
