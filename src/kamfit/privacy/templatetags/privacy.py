"""``{% privacy_panel person membership %}``: the person page's export and erasure box."""

from __future__ import annotations

from typing import Any

from django import template

from kamfit.assessments.models import Person
from kamfit.orgs.models import Membership
from kamfit.orgs.permissions import MANAGE_PRIVACY, may
from kamfit.privacy.models import ErasureRequest, ErasureState

register = template.Library()


@register.inclusion_tag("privacy/_person_panel.html")
def privacy_panel(person: Person, membership: Membership) -> dict[str, Any]:
    """Offer the download to the person and to owner/HR, and show pending erasure requests."""
    own = person.user_id is not None and person.user_id == membership.user_id
    admin = may(membership.role, MANAGE_PRIVACY)
    pending = (
        list(ErasureRequest.objects.filter(person=person, state=ErasureState.PENDING))
        if admin
        else []
    )
    return {
        "org": membership.organisation,
        "person": person,
        "own": own,
        "may_export": own or admin,
        "may_erase": admin and not own,
        "pending": pending,
    }
