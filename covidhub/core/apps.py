from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "covidhub.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from covidhub.core.schedule import register
        from covidhub.core.tasks import housekeeping

        register("core.housekeeping", every_seconds=3600, task=housekeeping)
