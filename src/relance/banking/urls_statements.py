"""Statement imports under /bank/: the list, the upload (and CSV columns), one import."""

from django.urls import path

from relance.banking import views_statements as views

urlpatterns = [
    path("", views.statement_list, name="bank_statements"),
    path("upload/", views.statement_upload, name="bank_statement_upload"),
    path("upload/<int:pk>/columns/", views.statement_columns, name="bank_statement_columns"),
    path("statements/<int:pk>/", views.statement_detail, name="bank_statement_detail"),
]
