from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "covidhub.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models import fields

        from covidhub.core.schedule import register

        # Django 6.1's empty choice of a select list; Django's own Vietnamese catalogue has
        # no translation for it yet, so ours carries it.
        fields.BLANK_CHOICE_LABEL = _("- Select an option -")
        from covidhub.core.tasks import housekeeping, partitions_maintain

        register("core.housekeeping", every_seconds=3600, task=housekeeping)
        register("core.partitions", every_seconds=24 * 3600, task=partitions_maintain)

        from covidhub.core.monitoring import register_queue, tasks_due_depth

        register_queue("tasks_due", tasks_due_depth)
