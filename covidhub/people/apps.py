from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "covidhub.people"
    label = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        from covidhub.accounts.scoping import OFFICER_ROLES
        from covidhub.accounts.workspaces import WorkspaceLink, register_workspace_link

        register_workspace_link(
            WorkspaceLink(_("Identity corrections"), "people:staff_corrections", OFFICER_ROLES, 12)
        )
