from relance.ledger.models.clients import (
    Client,
    ClientKind,
    ClientStatus,
    Contact,
    ContactRole,
    Tag,
)
from relance.ledger.models.invoices import (
    Attachment,
    FrozenInvoiceError,
    Installment,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSource,
    InvoiceStatus,
    NumberSequence,
    OperationCategory,
    VatCategory,
)
from relance.ledger.models.payments import Allocation, Payment, PaymentMethod
from relance.ledger.models.timeline import Activity, ActivityKind, CallOutcome

__all__ = [
    "Activity",
    "ActivityKind",
    "Allocation",
    "Attachment",
    "CallOutcome",
    "Client",
    "ClientKind",
    "ClientStatus",
    "Contact",
    "ContactRole",
    "FrozenInvoiceError",
    "Installment",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceSource",
    "InvoiceStatus",
    "NumberSequence",
    "OperationCategory",
    "Payment",
    "PaymentMethod",
    "Tag",
    "VatCategory",
]
