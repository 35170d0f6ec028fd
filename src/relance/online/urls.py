from django.urls import path

from relance.online import views

app_name = "online"

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("stripe/webhook/<str:token>/", views.stripe_webhook, name="stripe_webhook"),
    path("<str:token>/", views.pay_page, name="pay"),
    path("<str:token>/checkout/", views.checkout, name="checkout"),
    path("<str:token>/thanks/", views.thanks, name="thanks"),
]
