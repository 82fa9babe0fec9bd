from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "covidhub.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from covidhub.audit.guard import signals_connect

        signals_connect()
