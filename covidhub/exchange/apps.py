from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "covidhub.exchange"
    label = "exchange"
    verbose_name = _("Exchange with national systems")

    def ready(self) -> None:
        from covidhub.accounts.scoping import OFFICER_ROLES
        from covidhub.accounts.workspaces import WorkspaceLink, register_workspace_link
        from covidhub.core import schedule
        from covidhub.exchange.selectors import MANAGER_ROLES

        register_workspace_link(
            WorkspaceLink(
                _("Exchange with national systems"), "exchange:reconciliation", MANAGER_ROLES, 92
            )
        )
        register_workspace_link(
            WorkspaceLink(
                _("Import doses given elsewhere (FHIR)"), "exchange:import", OFFICER_ROLES, 93
            )
        )
        from covidhub.exchange.outbox import connect
        from covidhub.exchange.tasks import exchange_push_pending

        connect()
        from covidhub.demo.seeders import register_seeder
        from covidhub.exchange.demo import exchange_seed

        register_seeder("exchange", exchange_seed, order=96)  # after every record's seeder
        # Catches the rows of a kick that never reached the queue and the retries whose
        # backoff has run out.
        schedule.register("exchange.push", every_seconds=60, task=exchange_push_pending)
