from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "covidhub.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from covidhub.core.schedule import register
        from covidhub.notifications.tasks import message_sweep

        register("notifications.sweep", every_seconds=60, task=message_sweep)
