"""The Django admin, for support staff: rates editable, fee documents read-only."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import FeeSettings, LateFee, ReferenceRate


@admin.register(ReferenceRate)
class ReferenceRateAdmin(admin.ModelAdmin):
    list_display = ["series", "valid_from", "valid_to", "rate", "source", "imported_at"]
    list_filter = ["series"]


@admin.register(FeeSettings)
class FeeSettingsAdmin(admin.ModelAdmin):
    list_display = ["organisation", "policy", "contract_rate", "grace_days", "day_count"]


@admin.register(LateFee)
class LateFeeAdmin(admin.ModelAdmin):
    list_display = ["invoice", "kind", "amount", "currency", "booked_on", "waived_on"]
    list_filter = ["kind"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # booked once, waived from the invoice page with a reason

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
