"""The organisation's settings page: owners edit it, everyone else reads it."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from relance.invoicing.models import PaymentTermsTemplate
from relance.organisations.models import Membership, Role
from relance.web.access import member_view, scoped
from relance.web.forms.organisation import OrganisationForm


@member_view
def organisation_settings(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation
    is_owner = request.membership.role == Role.OWNER
    if request.method == "POST":
        if not is_owner:
            raise PermissionDenied("only owners change the organisation")
        form = OrganisationForm(request.POST, request.FILES, instance=organisation)
        if form.is_valid():
            form.save()
            messages.success(request, _("The organisation's details are saved."))
            return redirect("organisation_settings")
    else:
        form = OrganisationForm(instance=organisation)
    if not is_owner:
        for field in form.fields.values():
            field.disabled = True
    members = (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__username")
    )
    return render(
        request,
        "web/organisation/settings.html",
        {
            "form": form,
            "is_owner": is_owner,
            "members": members,
            "time_zones": sorted(zoneinfo.available_timezones()),
            "terms": scoped(request, PaymentTermsTemplate).order_by("-is_default", "name"),
        },
    )
