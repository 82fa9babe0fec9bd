from __future__ import annotations

import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("covidhub.declarations")


class DeclarationsConfig(AppConfig):
    name = "covidhub.declarations"
    label = "declarations"
    verbose_name = _("Health declarations")

    def ready(self) -> None:
        from covidhub.accounts.scoping import OFFICER_ROLES
        from covidhub.accounts.workspaces import WorkspaceLink, register_workspace_link
        from covidhub.core.metrics import register_daily_counts
        from covidhub.core.schedule import register
        from covidhub.core.tasks_catalog import register_entry
        from covidhub.declarations import services
        from covidhub.declarations.selectors import health_measures_of_people
        from covidhub.declarations.tasks import declarations_retention
        from covidhub.demo.seeders import register_seeder
        from covidhub.people.health_status import register_health_provider

        register_health_provider("declarations", health_measures_of_people)
        register_entry("declare", "declarations:home")
        roles = tuple(str(r) for r in OFFICER_ROLES)
        register_workspace_link(
            WorkspaceLink(
                _("Follow-up of health declarations"), "declarations:followup_list", roles, 20
            )
        )
        register_workspace_link(
            WorkspaceLink(
                _("Confirmed cases and exposure tracing"), "declarations:case_list", roles, 21
            )
        )
        register_workspace_link(
            WorkspaceLink(_("Venues and QR check-in"), "declarations:venue_list", roles, 22)
        )
        register("declarations.retention", every_seconds=24 * 3600, task=declarations_retention)
        register_daily_counts("declarations", services.declarations_daily_counts)
        register_daily_counts("checkins", services.checkins_daily_counts)

        from covidhub.declarations.demo import declarations_cases_seed, declarations_seed

        register_seeder("declarations", declarations_seed, order=30)
        # After testing (40), whose positive results propose the cases.
        register_seeder("declarations-cases", declarations_cases_seed, order=45)

        from covidhub.people.personal_qr import register_personal_qr_reader

        # Scanners everywhere also honour printed-card revocation, which lives here.
        register_personal_qr_reader(services.personal_qr_person)
        self._connect_testing()

        from django.db.models.signals import post_delete, post_save

        from covidhub.declarations.models import Venue

        post_save.connect(services.venues_cache_clear, sender=Venue)
        post_delete.connect(services.venues_cache_clear, sender=Venue)

    def _connect_testing(self) -> None:
        """A positive result released by the testing capability proposes a case here."""
        from covidhub.declarations.receivers import positive_result_received
        from covidhub.testing.signals import positive_result_released

        positive_result_released.connect(
            positive_result_received, dispatch_uid="declarations.positive_result"
        )
