"""URLs of the reminder pages: policies, their wording, the reminder settings."""

from django.urls import path

from .views import policies

urlpatterns = [
    path("policies/", policies.policy_list, name="reminder_policy_list"),
    path("policies/new/", policies.policy_create, name="reminder_policy_create"),
    path("policies/preview/", policies.policy_preview, name="reminder_policy_preview"),
    path("policies/<int:pk>/", policies.policy_edit, name="reminder_policy_edit"),
    path(
        "policies/<int:pk>/duplicate/",
        policies.policy_duplicate,
        name="reminder_policy_duplicate",
    ),
    path("policies/<int:pk>/delete/", policies.policy_delete, name="reminder_policy_delete"),
    path("policies/<int:pk>/default/", policies.policy_default, name="reminder_policy_default"),
    path("wording/", policies.template_list, name="reminder_template_list"),
    path(
        "wording/<slug:key>/<slug:channel>/<slug:language>/",
        policies.template_edit,
        name="reminder_template_edit",
    ),
    path(
        "wording/<slug:key>/<slug:channel>/<slug:language>/reset/",
        policies.template_reset,
        name="reminder_template_reset",
    ),
    path("settings/", policies.reminder_settings, name="reminder_settings"),
]
