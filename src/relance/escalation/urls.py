from django.urls import path

from . import views

urlpatterns = [
    path("", views.escalation_list, name="escalation_list"),
    path("settings/", views.settings_edit, name="escalation_settings"),
    path("clients/<int:pk>/hold/", views.hold, name="escalation_hold"),
    path("clients/<int:pk>/resume/", views.resume, name="escalation_resume"),
    path("clients/<int:pk>/notice/", views.notice_prepare, name="escalation_notice"),
    path("clients/<int:pk>/handoff/", views.handoff, name="escalation_handoff"),
    path("clients/<int:pk>/court/", views.court, name="escalation_court"),
    path("clients/<int:pk>/write-off/", views.write_off, name="escalation_write_off"),
    path("clients/<int:pk>/insolvent/", views.insolvent, name="escalation_insolvent"),
    path("clients/<int:pk>/case-file.zip", views.case_file, name="escalation_case_file"),
    path("clients/<int:pk>/court-dossier.pdf", views.dossier, name="escalation_dossier"),
    path("notices/<int:pk>/approve/", views.notice_approve, name="notice_approve"),
    path("notices/<int:pk>/sent/", views.notice_sent, name="notice_sent"),
    path("notices/<int:pk>/receipt/", views.notice_receipt, name="notice_receipt"),
    path("notices/<int:pk>/cancel/", views.notice_cancel, name="notice_cancel"),
    path("notices/<int:pk>/notice.pdf", views.notice_pdf, name="notice_pdf"),
    path("notices/<int:pk>/receipt-file/", views.notice_receipt_file, name="notice_receipt_file"),
    path("cases/<int:pk>/close/", views.case_close, name="escalation_close"),
    path("cases/<int:pk>/decline/", views.case_decline, name="escalation_decline"),
    path("cases/<int:pk>/write-off.csv", views.write_off_csv, name="escalation_write_off_csv"),
    path("tasks/<int:pk>/done/", views.task_done, name="escalation_task_done"),
]
