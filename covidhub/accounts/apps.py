from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "covidhub.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from covidhub.accounts.tasks import phone_code_prune
        from covidhub.core.schedule import register

        register("accounts.phone_code_prune", every_seconds=3600, task=phone_code_prune)
