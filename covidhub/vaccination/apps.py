from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VaccinationConfig(AppConfig):
    name = "covidhub.vaccination"
    label = "vaccination"
    verbose_name = _("Vaccination")

    def ready(self) -> None:
        from covidhub.accounts.models import Role
        from covidhub.accounts.workspaces import WorkspaceLink, register_workspace_link
        from covidhub.core import schedule
        from covidhub.core.indicators import register_person_indicator
        from covidhub.core.metrics import register_daily_counts
        from covidhub.core.tasks_catalog import register_entry
        from covidhub.demo.seeders import register_seeder
        from covidhub.vaccination import selectors
        from covidhub.vaccination.demo import vaccination_seed
        from covidhub.vaccination.tasks import reminders_send_task

        register_entry("vaccine_register", "vaccination:register")
        register_entry("vaccine_follow", "vaccination:my_vaccinations")
        site_roles = (Role.VACCINATOR, Role.SITE_MANAGER)
        officers = (
            Role.COMMUNE_OFFICER,
            Role.DISTRICT_OFFICER,
            Role.PROVINCE_OFFICER,
            Role.ADMINISTRATOR,
        )
        for link in (
            WorkspaceLink(_("Vaccination day at my site"), "vaccination:site_list", site_roles, 20),
            WorkspaceLink(
                _("Vaccination: campaigns and sessions"), "vaccination:staff_home", officers, 30
            ),
            WorkspaceLink(_("Vaccination reports"), "vaccination:staff_reports", officers, 31),
            WorkspaceLink(
                _("Adverse events after vaccination"), "vaccination:staff_aefi_list", officers, 32
            ),
            WorkspaceLink(
                _("Vaccine stock: receive and allocate"),
                "vaccination:staff_stock",
                (Role.DISTRICT_OFFICER, Role.PROVINCE_OFFICER, Role.ADMINISTRATOR),
                33,
            ),
        ):
            register_workspace_link(link)
        schedule.register(
            "vaccination.reminders", every_seconds=24 * 3600, task=reminders_send_task
        )
        register_daily_counts("vaccination", selectors.daily_counts)
        register_person_indicator(
            "vaccinated",
            selectors.vaccinated_indicator,
            label=_("Has at least one vaccine dose"),
            order=30,
        )
        register_seeder("vaccination", vaccination_seed, order=50)
