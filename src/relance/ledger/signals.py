"""What the ledger tells other parts of relance, without importing them."""

from django.dispatch import Signal

# Sent inside the transaction that issued (or imported) documents, with
# ``organisation_id`` and ``invoice_ids``: the dunning engine starts chasing them.
invoices_issued = Signal()
