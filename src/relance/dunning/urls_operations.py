"""URLs of the reminder pages a person works in every day (under /reminders/)."""

from django.urls import path

from .views import operations as ops

urlpatterns = [
    path("", ops.overview, name="reminder_overview"),
    path("approvals/", ops.approvals, name="reminder_approvals"),
    path("calls/", ops.calls, name="reminder_calls"),
    path("letters/", ops.letters, name="reminder_letters"),
    path("attention/", ops.attention, name="reminder_attention"),
    path("next-7-days/", ops.forecast, name="reminder_forecast"),
    path("sent/", ops.sent, name="reminder_sent"),
    # Fragments other pages load (htmx): the stale-heartbeat banner, the dashboard's to-dos.
    path("status/banner/", ops.banner, name="reminder_banner"),
    path("status/dashboard/", ops.dashboard_box, name="reminder_dashboard_box"),
    path("channels/<str:channel>/enable/", ops.channel_enable, name="reminder_channel_enable"),
    # One outbox message: approve, reject, log a call, print, resolve, drop.
    path("messages/<int:pk>/approve/", ops.approve, name="reminder_approve"),
    path("messages/<int:pk>/reject/", ops.reject, name="reminder_reject"),
    path("messages/<int:pk>/call/", ops.call_log, name="reminder_call_log"),
    path("messages/<int:pk>/letter.pdf", ops.letter_pdf, name="reminder_letter_pdf"),
    path("messages/<int:pk>/printed/", ops.letter_printed, name="reminder_letter_printed"),
    path("messages/<int:pk>/resolve/", ops.resolve, name="reminder_resolve"),
    path("messages/<int:pk>/drop/", ops.cancel, name="reminder_cancel"),
    # The client and invoice pages: pauses, reason for non-payment, the record's exports.
    path("clients/<int:pk>/pause/", ops.client_pause, name="reminder_client_pause"),
    path("clients/<int:pk>/reason/", ops.client_reason, name="reminder_client_reason"),
    path("invoices/<int:pk>/pause/", ops.invoice_pause, name="reminder_invoice_pause"),
    path("invoices/<int:pk>/reminders/", ops.invoice_reminders, name="reminder_invoice_panel"),
    path("pauses/<int:pk>/lift/", ops.pause_lift, name="reminder_pause_lift"),
    path(
        "clients/<int:pk>/history.csv",
        ops.client_history,
        {"kind": "csv"},
        name="reminder_client_history_csv",
    ),
    path(
        "clients/<int:pk>/history.pdf",
        ops.client_history,
        {"kind": "pdf"},
        name="reminder_client_history_pdf",
    ),
    path(
        "invoices/<int:pk>/history.csv",
        ops.invoice_history,
        {"kind": "csv"},
        name="reminder_invoice_history_csv",
    ),
    path(
        "invoices/<int:pk>/history.pdf",
        ops.invoice_history,
        {"kind": "pdf"},
        name="reminder_invoice_history_pdf",
    ),
]
