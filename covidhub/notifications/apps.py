from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "covidhub.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from django.conf import settings

        from covidhub.core.monitoring import register_queue
        from covidhub.core.schedule import register
        from covidhub.notifications.selectors import message_queue_depth
        from covidhub.notifications.tasks import message_sweep

        register(
            "notifications.sweep", every_seconds=settings.NOTIFY_SWEEP_SECONDS, task=message_sweep
        )
        register_queue("messages", message_queue_depth)
