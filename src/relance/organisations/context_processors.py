from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from relance.organisations.models import Membership


def _memberships(request: HttpRequest) -> list[Membership]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=user)
        .select_related("organisation")
        .order_by("organisation__legal_name", "organisation_id")
    )


def organisation(request: HttpRequest) -> dict[str, object]:
    return {
        "organisation": getattr(request, "organisation", None),
        "membership": getattr(request, "membership", None),
        # Lazy: queried only by a page that shows the organisation switcher.
        "memberships": SimpleLazyObject(lambda: _memberships(request)),
    }
