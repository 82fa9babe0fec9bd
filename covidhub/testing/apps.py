from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TestingConfig(AppConfig):
    name = "covidhub.testing"
    label = "testing"
    verbose_name = _("Testing")

    def ready(self) -> None:
        from covidhub.accounts.models import Role
        from covidhub.accounts.scoping import OFFICER_ROLES
        from covidhub.accounts.workspaces import WorkspaceLink, register_workspace_link
        from covidhub.core import schedule
        from covidhub.core.metrics import register_daily_counts
        from covidhub.core.tasks_catalog import register_entry
        from covidhub.demo.seeders import register_seeder
        from covidhub.people.health_status import register_health_provider
        from covidhub.testing.demo import testing_seed
        from covidhub.testing.metrics import testing_daily_counts
        from covidhub.testing.selectors import health_measures_of_people
        from covidhub.testing.tasks import results_notify_sweep

        register_health_provider("testing", health_measures_of_people)
        register_entry("test_register", "testing:register")
        register_entry("test_lookup", "testing:lookup")
        register_entry("test_results", "testing:my_results")
        register_workspace_link(
            WorkspaceLink(_("Sample collection"), "testing:sampling", (Role.SAMPLER,), 20)
        )
        register_workspace_link(
            WorkspaceLink(_("Laboratory"), "testing:lab_home", (Role.LAB_TECHNICIAN,), 21)
        )
        register_workspace_link(
            WorkspaceLink(
                _("Testing rounds and slots"),
                "testing:staff_rounds",
                (*OFFICER_ROLES, Role.SITE_MANAGER),
                22,
            )
        )
        register_workspace_link(
            WorkspaceLink(_("Test turnaround board"), "testing:board", OFFICER_ROLES, 23)
        )
        register_workspace_link(
            WorkspaceLink(_("Positive test results"), "testing:staff_cases", OFFICER_ROLES, 24)
        )
        register_daily_counts("testing", testing_daily_counts)
        schedule.register(
            "testing.results_notify_sweep", every_seconds=60, task=results_notify_sweep
        )
        register_seeder("testing", testing_seed, order=40)

        from covidhub.clients.units import UnitSource, register_unit_source
        from covidhub.testing.scope import lab_choices

        # A partner laboratory's system is registered as a client of one laboratory.
        register_unit_source(UnitSource("lab", Role.LAB_TECHNICIAN, _("Laboratory"), lab_choices))
