from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "covidhub.portal"
    label = "portal"
    verbose_name = _("Information portal")

    def ready(self) -> None:
        from covidhub.accounts.models import Role
        from covidhub.accounts.workspaces import WorkspaceLink, register_workspace_link
        from covidhub.core.schedule import register
        from covidhub.demo.seeders import register_seeder
        from covidhub.portal import tasks
        from covidhub.portal.demo import portal_seed

        register("portal.rollup_recent", every_seconds=3600, task=tasks.stats_rollup_recent)
        register("portal.rollup_full", every_seconds=24 * 3600, task=tasks.stats_rollup_full)
        register("portal.publish_due", every_seconds=60, task=tasks.announcement_publish_due)

        editors = (Role.PORTAL_EDITOR, Role.ADMINISTRATOR)
        officers = (
            Role.COMMUNE_OFFICER,
            Role.DISTRICT_OFFICER,
            Role.PROVINCE_OFFICER,
            Role.ADMINISTRATOR,
        )
        register_workspace_link(
            WorkspaceLink(_("Portal announcements"), "portal:staff_announcements", editors, 70)
        )
        register_workspace_link(
            WorkspaceLink(_("Support tickets"), "portal:staff_tickets", editors, 71)
        )
        register_workspace_link(
            WorkspaceLink(_("Official case counts"), "portal:staff_official_counts", officers, 72)
        )
        register_workspace_link(WorkspaceLink(_("Public statistics"), "portal:home", officers, 73))
        register_seeder("portal", portal_seed, order=900)
