from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "relance.ledger"
    label = "ledger"
    verbose_name = _("Register")

    def ready(self) -> None:
        from relance.ledger import settlement  # noqa: F401  (applies credit to issued invoices)
