from django.contrib import admin

from relance.organisations.models import Membership, Organisation


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["legal_name", "siren", "country", "currency", "time_zone"]
    search_fields = ["legal_name", "trade_name", "siren"]
    inlines = [MembershipInline]
