from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "covidhub.clients"
    label = "clients"
    verbose_name = _("Machine clients")

    def ready(self) -> None:
        from covidhub.accounts.models import Role
        from covidhub.accounts.workspaces import WorkspaceLink, register_workspace_link
        from covidhub.clients.auth import idempotency_owner
        from covidhub.core import idempotency

        register_workspace_link(
            WorkspaceLink(_("Machine clients (API)"), "clients:list", (Role.ADMINISTRATOR,), 91)
        )
        # A retried POST of a client is the client's, whatever token it now carries.
        idempotency.register_owner_resolver(idempotency_owner)

        from covidhub.clients import oauth  # noqa: F401 - connects the token-issued audit
        from covidhub.clients.demo import clients_seed
        from covidhub.demo.seeders import register_seeder

        register_seeder("clients", clients_seed, order=95)  # after the laboratories

        from covidhub.clients.tasks import access_tokens_prune
        from covidhub.core.schedule import register

        register("clients.access_tokens_prune", every_seconds=3600, task=access_tokens_prune)
