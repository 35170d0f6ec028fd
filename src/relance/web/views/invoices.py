# Owned by the UI work in progress.
from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    raise NotImplementedError


invoice_list = invoice_create = invoice_detail = invoice_edit = invoice_issue = _todo
credit_note_create = invoice_write_off = invoice_note = attachment_upload = _todo
attachment_download = _todo
