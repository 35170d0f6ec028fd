"""The Django admin, for support staff. Issued documents and the timeline
are read-only here as everywhere else."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from relance.ledger.models import (
    Activity,
    Allocation,
    Client,
    Contact,
    Installment,
    Invoice,
    InvoiceLine,
    Payment,
    Tag,
)


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    exclude = ["organisation"]


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "kind", "status", "siren", "city"]
    list_filter = ["organisation", "kind", "status"]
    search_fields = ["name", "siren", "reference"]
    inlines = [ContactInline]


class LineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_draft

    has_add_permission = has_change_permission  # type: ignore[assignment]
    has_delete_permission = has_change_permission  # type: ignore[assignment]


class InstallmentInline(admin.TabularInline):
    model = Installment
    extra = 0
    readonly_fields = ["amount_paid"]


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "organisation",
        "client",
        "kind",
        "status",
        "issue_date",
        "due_date",
        "total_gross",
        "balance",
        "currency",
    ]
    list_filter = ["organisation", "kind", "status", "currency"]
    search_fields = ["number", "client__name"]
    raw_id_fields = ["client", "corrects"]
    readonly_fields = [
        "number",
        "status",
        "total_net",
        "total_vat",
        "total_gross",
        "amount_paid",
        "amount_credited",
        "balance",
        "issued_at",
    ]
    inlines = [LineInline, InstallmentInline]


class AllocationInline(admin.TabularInline):
    model = Allocation
    extra = 0
    raw_id_fields = ["invoice", "installment"]
    exclude = ["organisation"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "date",
        "organisation",
        "client",
        "amount",
        "currency",
        "method",
        "reference",
        "unallocated",
    ]
    list_filter = ["organisation", "method", "currency"]
    search_fields = ["reference", "payer_name", "client__name"]
    raw_id_fields = ["client"]
    inlines = [AllocationInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["at", "organisation", "client", "invoice", "kind", "author", "text"]
    list_filter = ["organisation", "kind"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.register(Tag)
