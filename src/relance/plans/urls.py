from django.urls import path

from . import views

urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("<int:pk>/agreement.pdf", views.plan_pdf, name="plan_pdf"),
    path("<int:pk>/agree/", views.plan_agree, name="plan_agree"),
    path("<int:pk>/cancel/", views.plan_cancel, name="plan_cancel"),
    path("<int:pk>/send/", views.plan_send, name="plan_send"),
    path("new/<int:client_pk>/", views.plan_create, name="plan_create"),
    path("new/<int:client_pk>/preview/", views.plan_preview, name="plan_preview"),
    path("offers/new/<int:client_pk>/", views.offer_create, name="offer_create"),
    path("offers/<int:pk>/withdraw/", views.offer_withdraw, name="offer_withdraw"),
]
