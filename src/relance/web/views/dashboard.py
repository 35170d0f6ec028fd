# Owned by the UI work in progress: dashboard, organisation switch.
from django.http import HttpRequest, HttpResponse


def dashboard(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def switch_organisation(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
