"""Hardened responses: a nonce-based Content-Security-Policy, no caching of private
pages, and the API documentation page rebuilt so that it runs under that policy.

The policy itself lives in ``settings.CONTENT_SECURITY_POLICY`` (django-csp 4); this
module only makes sure every response carries a nonce in ``script-src`` and that
responses to authenticated requests are never stored by a browser or proxy cache
(RELIABILITY A11, A34). See ``docs/security/hardening.md``.
"""

from __future__ import annotations

from collections.abc import Callable

from csp.middleware import CSPMiddleware
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import add_never_cache_headers
from drf_spectacular.views import SpectacularSwaggerSplitView

__all__ = ["NoStoreMiddleware", "NonceCSPMiddleware", "SwaggerDocsView"]


class NonceCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with a nonce in ``script-src`` on every response.

    django-csp adds the nonce only when a template asked for it. A page that uses no
    script then has no nonce in its policy, which is just as strict; the nonce is
    generated anyway so that every response carries the same shape of policy and a
    header check can tell a missing nonce (a broken policy) from an unused one.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        """Draw the nonce, then let django-csp write the header."""
        nonce = getattr(request, "csp_nonce", None)
        if nonce is not None:
            str(nonce)  # evaluates the lazy nonce so that the policy names it
        return super().process_response(request, response)


def _is_authenticated(request: HttpRequest) -> bool:
    """Tell whether the request carried credentials: a session user or an API token.

    DRF writes the user it authenticated by token back onto the Django request, so
    ``request.user`` covers both by the time the response passes.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    return "HTTP_AUTHORIZATION" in request.META


class NoStoreMiddleware:
    """Mark every response to an authenticated request ``Cache-Control: no-store``.

    Pages and API answers for a signed-in user hold personal data (ratings, notes,
    names); a shared or back-button cache must not keep them. Anonymous pages (the
    login form, the health check) keep their own caching. Install it after Django's
    authentication middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Answer the request, then forbid storing the answer if it was private."""
        response = self.get_response(request)
        if _is_authenticated(request):
            add_never_cache_headers(response)  # includes no-store and private
        return response


class SwaggerDocsView(SpectacularSwaggerSplitView):
    """Swagger UI for the API that runs under the policy: no inline script or style.

    drf-spectacular's plain view inlines its start-up script; the split view serves
    it from the same URL (``?script``), which ``script-src 'self'`` allows. The page
    template links a stylesheet instead of drf-spectacular's inline ``<style>``.
    """

    template_name = "web/swagger_ui.html"
