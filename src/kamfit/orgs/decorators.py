"""View decorators that resolve the organisation in the URL for the signed-in member."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from kamfit.orgs.access import access_membership
from kamfit.orgs.models import Membership

P = ParamSpec("P")
OrgView = Callable[Concatenate[HttpRequest, Membership, P], HttpResponse]


def org_view(view: OrgView[P]) -> Callable[Concatenate[HttpRequest, str, P], HttpResponse]:
    """Sign-in required; pass the member's :class:`Membership` of ``org`` to the view.

    A user who is not a member of the organisation in the URL gets 404.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, org: str, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        membership = access_membership(request.user, org)
        request.session["kamfit_org"] = membership.organisation.slug
        return view(request, membership, *args, **kwargs)

    return cast(Callable[Concatenate[HttpRequest, str, P], HttpResponse], wrapper)
