from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("imports/", include("relance.imports.urls")),
    path("reminders/", include("relance.dunning.urls_policies")),
    path("reminders/", include("relance.dunning.urls_operations")),
    path("bank/", include("relance.banking.urls")),
    path("pay/", include("relance.online.urls")),
    path("plans/", include("relance.plans.urls")),
    path("escalation/", include("relance.escalation.urls")),
    path("fees/", include("relance.fees.urls")),
    path("", include("relance.web.urls")),
]
