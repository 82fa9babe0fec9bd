from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


def staff_required(
    *roles: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A staff member signed in with a verified TOTP device (and one of `roles`, if given).

    A staff member without the role gets 404, like an object outside their scope.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if (
                not user.is_authenticated
                or getattr(user, "kind", "") != "staff"
                or not user.is_verified()  # type: ignore[attr-defined]
            ):
                return redirect(f"{reverse('accounts:staff_login')}")
            if roles:
                from django.http import Http404

                from covidhub.accounts.scoping import actor_scope

                if not actor_scope(user).has_role(*roles):
                    raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def citizen_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('accounts:citizen_login')}?next={request.path}")
        if getattr(user, "kind", "") != "citizen":
            return redirect("accounts:workspace")
        return view(request, *args, **kwargs)

    return wrapped
