"""Attach the active organisation and membership to each request.

A user may belong to several organisations; the one in use is kept in the
session and must be one of the user's memberships, so a forged session
value can never reach another tenant's data.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from relance.organisations.models import Membership

SESSION_KEY = "relance_organisation_id"


def active_membership(request: HttpRequest) -> Membership | None:
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("organisation")
    wanted = request.session.get(SESSION_KEY)
    if wanted is not None:
        chosen = memberships.filter(organisation_id=wanted).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("organisation_id").first()


class OrganisationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership = active_membership(request)
        request.membership = membership  # type: ignore[attr-defined]
        request.organisation = membership.organisation if membership else None  # type: ignore[attr-defined]
        if request.organisation is None:
            return self.get_response(request)
        # Times on every page in the organisation's own zone, as its "today" is.
        with timezone.override(request.organisation.tzinfo):
            return self.get_response(request)


class LanguageMiddleware:
    """French first: the language a person chose (the language cookie set by
    the switch in the top bar), else their organisation's language, else
    French. The browser's Accept-Language is not consulted, so a French
    business sees French even on an English-language browser."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self._choose(request)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        with translation.override(language):
            response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response

    @staticmethod
    def _choose(request: HttpRequest) -> str:
        supported = {code for code, _name in settings.LANGUAGES}
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen in supported:
            return chosen
        organisation = getattr(request, "organisation", None)
        if organisation is not None and organisation.locale in supported:
            return organisation.locale
        return settings.LANGUAGE_CODE
