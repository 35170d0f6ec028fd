from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "relance.plans"
    label = "plans"
    verbose_name = _("Payment plans")

    def ready(self) -> None:
        from . import signals  # noqa: F401
