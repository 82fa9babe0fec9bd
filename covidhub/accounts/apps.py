from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "covidhub.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from covidhub.accounts import totp_keys

        totp_keys.install()

        from covidhub.accounts.scoping import actor_scope
        from covidhub.audit.alerts import staff_lookup_roles_register

        staff_lookup_roles_register(lambda actor: actor_scope(actor).roles)

        from covidhub.accounts.tasks import phone_code_prune
        from covidhub.core.schedule import register

        register("accounts.phone_code_prune", every_seconds=3600, task=phone_code_prune)

        from covidhub.accounts.models import Role
        from covidhub.accounts.workspaces import WorkspaceLink, register_workspace_link

        register_workspace_link(
            WorkspaceLink(
                _("Security alerts"), "accounts:security_alerts", (Role.ADMINISTRATOR,), 90
            )
        )

        from django.db.models.signals import post_delete, post_save

        from covidhub.accounts import signals
        from covidhub.accounts.models import ApiToken, User

        for sender in (User, ApiToken):
            post_save.connect(signals.api_token_cache_forget, sender=sender)
            post_delete.connect(signals.api_token_cache_forget, sender=sender)

        from django_otp.plugins.otp_totp.models import TOTPDevice

        from covidhub.accounts.models import RoleAssignment

        post_save.connect(signals.api_tokens_revoke_when_disabled, sender=User)
        post_save.connect(signals.scope_cache_forget, sender=RoleAssignment)
        post_delete.connect(signals.scope_cache_forget, sender=RoleAssignment)

        from covidhub.accounts.models import AuthenticatorDevice

        # The admin changes devices through the proxy, whose signals name the proxy.
        for device_model in (TOTPDevice, AuthenticatorDevice):
            post_save.connect(signals.device_cache_forget, sender=device_model)
            post_delete.connect(signals.device_cache_forget, sender=device_model)


class CovidhubAdminConfig(admin_apps.AdminConfig):
    """Django's admin app with our site (covidhub.accounts.adminsite) as `admin.site`, so
    that every `admin.register` — ours and django-otp's — lands behind the staff sign-in."""

    default = False  # "covidhub.accounts" still means AccountsConfig
    default_site = "covidhub.accounts.adminsite.CovidhubAdminSite"
