from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscalationConfig(AppConfig):
    name = "relance.escalation"
    label = "escalation"
    verbose_name = _("Escalation")

    def ready(self) -> None:
        from . import signals  # noqa: F401
