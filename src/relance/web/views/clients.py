# Owned by the UI work in progress.
from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    raise NotImplementedError


client_list = client_create = client_detail = client_edit = client_note = client_call = _todo
contact_create = contact_edit = _todo
