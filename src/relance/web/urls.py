from django.contrib.auth import views as auth_views
from django.urls import path

from relance.web.views import clients, dashboard, invoices, organisation, payments, recurring, terms

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", dashboard.dashboard, name="dashboard"),
    path("organisation/switch/", dashboard.switch_organisation, name="switch_organisation"),
    path("organisation/", organisation.organisation_settings, name="organisation_settings"),
    # Clients, contacts and the client timeline.
    path("clients/", clients.client_list, name="client_list"),
    path("clients/new/", clients.client_create, name="client_create"),
    path("clients/<int:pk>/", clients.client_detail, name="client_detail"),
    path("clients/<int:pk>/edit/", clients.client_edit, name="client_edit"),
    path("clients/<int:pk>/note/", clients.client_note, name="client_note"),
    path("clients/<int:pk>/call/", clients.client_call, name="client_call"),
    path("clients/<int:pk>/contacts/new/", clients.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", clients.contact_edit, name="contact_edit"),
    # Invoices, credit notes, attachments.
    path("invoices/", invoices.invoice_list, name="invoice_list"),
    path("invoices/new/", invoices.invoice_create, name="invoice_create"),
    path("invoices/<int:pk>/", invoices.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/edit/", invoices.invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/issue/", invoices.invoice_issue, name="invoice_issue"),
    path("invoices/<int:pk>/pdf/", invoices.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/send/", invoices.invoice_send, name="invoice_send"),
    path("invoices/<int:pk>/send-later/", invoices.invoice_send_later, name="invoice_send_later"),
    path("invoices/<int:pk>/credit-note/", invoices.credit_note_create, name="credit_note_create"),
    path("invoices/<int:pk>/write-off/", invoices.invoice_write_off, name="invoice_write_off"),
    path("invoices/<int:pk>/note/", invoices.invoice_note, name="invoice_note"),
    path("invoices/<int:pk>/attachments/", invoices.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", invoices.attachment_download, name="attachment_download"),
    # Payment terms.
    path("terms/", terms.terms_list, name="terms_list"),
    path("terms/new/", terms.terms_create, name="terms_create"),
    path("terms/<int:pk>/edit/", terms.terms_edit, name="terms_edit"),
    path("terms/<int:pk>/delete/", terms.terms_delete, name="terms_delete"),
    path("terms/<int:pk>/default/", terms.terms_default, name="terms_default"),
    # Recurring invoices.
    path("recurring/", recurring.recurring_list, name="recurring_list"),
    path("recurring/new/", recurring.recurring_create, name="recurring_create"),
    path("recurring/<int:pk>/edit/", recurring.recurring_edit, name="recurring_edit"),
    path("recurring/<int:pk>/pause/", recurring.recurring_pause, name="recurring_pause"),
    path("recurring/<int:pk>/resume/", recurring.recurring_resume, name="recurring_resume"),
    # Payments.
    path("payments/", payments.payment_list, name="payment_list"),
    path(
        "invoices/<int:pk>/payments/new/",
        payments.invoice_payment_create,
        name="invoice_payment_create",
    ),
    path(
        "clients/<int:pk>/payments/new/",
        payments.client_payment_create,
        name="client_payment_create",
    ),
    path("payments/<int:pk>/", payments.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/reverse/", payments.payment_reverse, name="payment_reverse"),
    path(
        "invoices/<int:pk>/credit/apply/",
        payments.invoice_apply_credit,
        name="invoice_apply_credit",
    ),
    path(
        "clients/<int:pk>/credit/apply/", payments.client_apply_credit, name="client_apply_credit"
    ),
    path(
        "clients/<int:pk>/refunds/new/", payments.client_refund_create, name="client_refund_create"
    ),
]
