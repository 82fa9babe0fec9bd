from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdoptionConfig(AppConfig):
    name = "covidhub.adoption"
    label = "adoption"
    verbose_name = _("Adoption")

    def ready(self) -> None:
        # Register here: citizen task entries (covidhub.core.tasks_catalog.register_entry),
        # staff workspace links (covidhub.accounts.workspaces.register_workspace_link),
        # periodic jobs (covidhub.core.schedule.register) and demo seeders
        # (covidhub.demo.seeders.register_seeder).
        pass
