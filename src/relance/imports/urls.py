from django.urls import path

from relance.imports import views

urlpatterns = [
    path("", views.upload, name="import_upload"),
    path("<int:pk>/mapping/", views.mapping, name="import_mapping"),
    path("<int:pk>/preview/", views.preview, name="import_preview"),
    path("<int:pk>/confirm/", views.confirm, name="import_confirm"),
    path("<int:pk>/", views.result, name="import_result"),
]
