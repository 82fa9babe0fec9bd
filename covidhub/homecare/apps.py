from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomecareConfig(AppConfig):
    name = "covidhub.homecare"
    label = "homecare"
    verbose_name = _("Home care and quarantine")

    def ready(self) -> None:
        from covidhub.accounts.scoping import OFFICER_ROLES
        from covidhub.accounts.workspaces import WorkspaceLink, register_workspace_link
        from covidhub.core.metrics import register_daily_counts
        from covidhub.demo.seeders import register_seeder
        from covidhub.homecare import receivers
        from covidhub.homecare.demo import homecare_seed
        from covidhub.homecare.selectors import (
            health_measures_of_people,
            homecare_daily_counts,
            releases_of_people,
        )
        from covidhub.people.health_status import register_health_provider, register_health_release

        receivers.connect()
        from django.db.models.signals import post_save

        from covidhub.homecare.models import CareOrder
        from covidhub.homecare.selectors import open_counts_forget

        # The station's count of people under care (per process) follows every order saved.
        post_save.connect(open_counts_forget, sender=CareOrder, dispatch_uid="homecare.open_counts")
        from covidhub.core import schedule
        from covidhub.homecare.tasks import homecare_missed_checks_remind

        schedule.register(
            "homecare.missed_checks.remind", every_seconds=900, task=homecare_missed_checks_remind
        )
        register_health_provider("homecare", health_measures_of_people)
        register_health_release("homecare", releases_of_people)
        register_daily_counts("homecare", homecare_daily_counts)
        roles = tuple(str(r) for r in OFFICER_ROLES)
        register_workspace_link(
            WorkspaceLink(
                _("Home care and quarantine: the station's day"), "homecare:station", roles, 23
            )
        )
        register_workspace_link(
            WorkspaceLink(_("Contacts to quarantine"), "homecare:contacts", roles, 24)
        )
        register_workspace_link(
            WorkspaceLink(_("Contact chains and clusters by venue"), "homecare:clusters", roles, 25)
        )
        register_workspace_link(
            WorkspaceLink(
                _("Home care protocol: durations, release, warning signs"),
                "homecare:protocol",
                ("province_officer", "administrator", "national_officer"),
                26,
            )
        )
        # After the confirmed cases of the testing history (45).
        register_seeder("homecare", homecare_seed, order=50)
