# Owned by the UI work in progress.
from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    raise NotImplementedError


payment_list = invoice_payment_create = client_payment_create = payment_detail = _todo
