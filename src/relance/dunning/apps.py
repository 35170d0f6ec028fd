from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DunningConfig(AppConfig):
    name = "relance.dunning"
    label = "dunning"
    verbose_name = _("Reminders")

    def ready(self) -> None:
        from relance.dunning import chases  # noqa: F401  (connects the ledger's signals)
