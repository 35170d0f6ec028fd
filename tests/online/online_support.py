"""Helpers the online payment tests share (a unique module name: conftest is not importable)."""


def metadata_for(invoices):
    first = invoices[0]
    return {
        "organisation": str(first.organisation_id),
        "client": str(first.client_id),
        "invoices": ",".join(str(i.pk) for i in invoices),
    }
