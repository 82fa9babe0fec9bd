"""The Django admin, behind the staff sign-in.

The admin has no sign-in of its own: its login page sends people to `/staff/signin/`
(password, the shared lockout, then TOTP), and it admits only a session whose TOTP device
was verified, of an active staff account that is a superuser or holds the administrator
role. Any other verified staff member gets 404, as for anything outside their scope.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.contrib.admin import AdminSite
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from covidhub.accounts.models import Role, User

_View = TypeVar("_View", bound=Callable[..., Any])


def is_verified_staff(user: Any) -> bool:
    """An active staff account whose session passed the TOTP step."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and getattr(user, "kind", "") == User.Kind.STAFF
        and user.is_verified()
    )


def is_administrator(user: Any) -> bool:
    """A verified staff session of a superuser or of a holder of the administrator role."""
    if not is_verified_staff(user):
        return False
    if user.is_superuser:
        return True
    from covidhub.accounts.scoping import actor_scope

    return actor_scope(user).has_role(Role.ADMINISTRATOR)


class CovidhubAdminSite(AdminSite):
    site_header = _("covidhub administration")
    site_title = _("covidhub administration")
    index_title = _("System administration")
    enable_nav_sidebar = False

    def has_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        inner = super().admin_view(view, cacheable)

        def refuse_other_staff(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            # A signed-in colleague without the role learns nothing, not even that it exists.
            if is_verified_staff(request.user) and not is_administrator(request.user):
                raise Http404
            return inner(request, *args, **kwargs)

        return cast(_View, update_wrapper(refuse_other_staff, inner))

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """No password form here: one sign-in (and one lockout) for all staff."""
        if self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        if is_verified_staff(request.user):
            raise Http404
        index = reverse("admin:index", current_app=self.name)
        next_url = request.GET.get("next") or index
        if not next_url.startswith(index):
            next_url = index
        query = urlencode({"next": next_url})
        return HttpResponseRedirect(f"{reverse('accounts:staff_login')}?{query}")
