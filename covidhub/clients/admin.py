"""django-oauth-toolkit's own admin pages edit applications (their secret hashes) and list
tokens: clients are managed on the staff pages instead (covidhub.clients.views), where
what a client reaches follows the administrator's own area."""

from __future__ import annotations

from django.contrib import admin
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

for model in (
    get_application_model(),
    get_access_token_model(),
    get_grant_model(),
    get_id_token_model(),
    get_refresh_token_model(),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
