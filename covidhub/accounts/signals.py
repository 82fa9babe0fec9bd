"""Keep the auth caches honest: saving or deleting an account, a token, a TOTP device or a
role assignment clears what was cached of it — the account's tokens, the account itself,
the device, the staff scope — so that a deactivation, a changed password, a removed device
or a role taken away applies on the next request."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from covidhub.accounts.backends import user_cache_clear
from covidhub.accounts.models import ApiToken, User


def device_cache_forget(sender: type, instance: Any, **kwargs: Any) -> None:
    from covidhub.accounts.middleware import device_cache_clear

    # A session names its device by the concrete model ("otp_totp.totpdevice/7"); the
    # admin's proxy (AuthenticatorDevice) would name another.
    concrete = instance._meta.concrete_model._meta
    device_cache_clear(f"{concrete.app_label}.{concrete.model_name}/{instance.pk}")


def api_token_cache_forget(sender: type, instance: Any, **kwargs: Any) -> None:
    if not settings.AUTH_CACHE_SECONDS or kwargs.get("created"):
        return
    from covidhub.accounts.services import api_token_cache_clear

    if isinstance(instance, ApiToken):
        api_token_cache_clear([instance.key_hash])
    elif isinstance(instance, User) and instance.pk is not None:
        user_cache_clear(instance.pk)
        api_token_cache_clear(
            ApiToken.objects.filter(user_id=instance.pk).values_list("key_hash", flat=True)
        )


def api_tokens_revoke_when_disabled(sender: type, instance: Any, **kwargs: Any) -> None:
    """A disabled account's bearer tokens (a citizen's app, a staff app) are revoked, not
    only refused while it stays disabled: enabling it again does not bring them back."""
    if kwargs.get("created") or instance.is_active:
        return
    from covidhub.accounts.services import api_tokens_revoke_all

    api_tokens_revoke_all(user=instance)


def scope_cache_forget(sender: type, instance: Any, **kwargs: Any) -> None:
    """A role given or taken applies on the staff member's next request."""
    from covidhub.accounts.authcache import auth_cache_forget
    from covidhub.accounts.scoping import scope_cache_key

    auth_cache_forget([scope_cache_key(instance.user_id)])
