from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "covidhub.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from covidhub.audit.guard import signals_connect

        signals_connect()

        from covidhub.audit.tasks import staff_lookups_prune
        from covidhub.core.schedule import register

        register("audit.staff_lookups_prune", every_seconds=3600, task=staff_lookups_prune)
