"""The one organisation-scoped path from a request to business data.

Views never call ``Model.objects`` on business data directly: they go
through ``scoped(request, Model)`` or ``get_scoped_or_404``, which filter by
the request's active organisation. An id that belongs to another
organisation is simply not found (404), never forbidden (403), so ids leak
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

View = Callable[..., HttpResponse]


def scoped[M: Model](request: HttpRequest, model: type[M]) -> QuerySet[M]:
    organisation = getattr(request, "organisation", None)
    if organisation is None:
        return model._default_manager.none()
    return model._default_manager.filter(organisation=organisation)


def get_scoped_or_404[M: Model](request: HttpRequest, model: type[M], **lookup: Any) -> M:
    return get_object_or_404(scoped(request, model), **lookup)


def member_view(view: View) -> View:
    """Logged in and member of an organisation (any role: reading is allowed)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "organisation", None) is None:
            raise Http404("no organisation")
        return view(request, *args, **kwargs)

    return wrapper


def writer_view(view: View) -> View:
    """Like ``member_view``; POST requests also need a role that may write."""

    @member_view
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD", "OPTIONS") and not request.membership.can_write:
            raise PermissionDenied("read-only")
        return view(request, *args, **kwargs)

    return wrapper
