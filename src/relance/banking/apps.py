from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BankingConfig(AppConfig):
    name = "relance.banking"
    label = "banking"
    verbose_name = _("Bank statements")

    def ready(self) -> None:
        from relance.banking import matching  # noqa: F401  (connects its receiver)
