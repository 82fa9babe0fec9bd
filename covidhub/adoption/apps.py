from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdoptionConfig(AppConfig):
    name = "covidhub.adoption"
    label = "adoption"
    verbose_name = _("Adoption")

    def ready(self) -> None:
        from covidhub.accounts.workspaces import WorkspaceLink, register_workspace_link
        from covidhub.adoption import tasks
        from covidhub.adoption.selectors import REPORT_ROLES
        from covidhub.core.schedule import register
        from covidhub.demo.seeders import register_seeder

        register_workspace_link(
            WorkspaceLink(
                _("Staff adoption (100% directive)"), "adoption:staff_home", REPORT_ROLES, 60
            )
        )
        register(
            "adoption.roster_members_match", every_seconds=3600, task=tasks.roster_members_match
        )
        register("adoption.snapshot_take", every_seconds=3600, task=tasks.adoption_snapshot_take)
        register(
            "adoption.roster_upload_prune", every_seconds=6 * 3600, task=tasks.roster_upload_prune
        )

        from covidhub.adoption.demo import adoption_seed

        register_seeder("adoption", adoption_seed, order=60)
