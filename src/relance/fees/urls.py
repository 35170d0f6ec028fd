from django.urls import path

from . import views

urlpatterns = [
    path("settings/", views.settings_page, name="fee_settings"),
    path("invoice/<int:pk>/", views.invoice_box, name="fees_invoice"),
    path("client/<int:pk>/", views.client_box, name="fees_client"),
    path("dashboard/", views.dashboard_box, name="fees_dashboard"),
    path("<int:pk>/waive/", views.waive, name="late_fee_waive"),
]
