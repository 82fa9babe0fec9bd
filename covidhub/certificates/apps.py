from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "covidhub.certificates"
    label = "certificates"
    verbose_name = _("Certificates")

    def ready(self) -> None:
        from covidhub.accounts.models import Role
        from covidhub.accounts.workspaces import WorkspaceLink, register_workspace_link
        from covidhub.certificates import receivers, selectors
        from covidhub.certificates.demo import certificates_seed
        from covidhub.certificates.status_rules import status_provider
        from covidhub.certificates.tasks import certificates_issue_pending, certificates_trust_sync
        from covidhub.core import schedule
        from covidhub.core.monitoring import register_queue
        from covidhub.core.tasks_catalog import register_entry
        from covidhub.demo.seeders import register_seeder
        from covidhub.people.status import register_status_provider

        register_entry("certificate", "certificates:mine")
        all_staff = tuple(Role.values)
        officers = (
            Role.COMMUNE_OFFICER,
            Role.DISTRICT_OFFICER,
            Role.PROVINCE_OFFICER,
            Role.ADMINISTRATOR,
        )
        register_workspace_link(
            WorkspaceLink(_("Verify a COVID certificate"), "certificates:verify", all_staff, 60)
        )
        register_workspace_link(
            WorkspaceLink(_("Status card rules"), "certificates:rules", officers, 61)
        )
        register_workspace_link(
            WorkspaceLink(
                _("Print a certificate for a person without a phone"),
                "certificates:print_search",
                officers,
                64,
            )
        )
        register_workspace_link(
            WorkspaceLink(
                _("Certificate acceptance rules"),
                "certificates:acceptance_rules_index",
                officers,
                61,
            )
        )
        register_workspace_link(
            WorkspaceLink(
                _("Certificate signing keys"), "certificates:keys", (Role.ADMINISTRATOR,), 62
            )
        )
        register_workspace_link(
            WorkspaceLink(
                _("Certificate revocations"),
                "certificates:revocations",
                (Role.ADMINISTRATOR,),
                63,
            )
        )
        register_status_provider(status_provider)
        receivers.connect()
        # The queue is kicked after each commit; this catches a kick that was lost.
        schedule.register(
            "certificates.issue_pending", every_seconds=60, task=certificates_issue_pending
        )
        # DSCs and value sets from the trust hub, when one is configured.
        schedule.register(
            "certificates.trust_sync", every_seconds=3600, task=certificates_trust_sync
        )
        register_seeder("certificates", certificates_seed, order=90)
        register_queue("certificates_pending", selectors.pending_issue_depth)
