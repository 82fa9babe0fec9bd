"""Response headers that say what a page may do and who may keep it.

Permissions-Policy: no page may use the camera, microphone, location, payment or motion
sensors, except the scanning pages below, which may use the camera for this origin only.
A new scanning page is added to `CAMERA_VIEWS` (its URL name), nowhere else.

Cache-Control: whatever answers a request that carries credentials (a session cookie or
an Authorization header) may hold personal data, so it is `no-store` whatever the view
said; so is every API answer and every answer to a POST that did not declare itself
public. Anonymous GET pages keep what their view set (the portal's public caching), and one
whose view set nothing is `no-store` too: an anonymous page can carry personal data (the
result check behind a PDF's QR code shows an outcome and a masked name), so caching is
something a page declares, never a default.

The Content-Security-Policy itself is django-csp's (settings.CONTENT_SECURITY_POLICY).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CAMERA_VIEWS = frozenset(
    {
        "declarations:checkin",  # a citizen scans a venue's QR
        "declarations:venue_link",  # the same page, reached from a venue poster
        "declarations:venue_scan",  # venue staff scan personal QR codes
        "testing:session",  # a sampling team scans people and tubes
        "vaccination:site_day",  # a vaccination site scans people at check-in
        "certificates:verify",  # a verifier scans certificates
        "certificates:checkpoint",  # the public checkpoint verifier scans certificates
    }
)
_DENIED = (
    "accelerometer=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)
PERMISSIONS_POLICY = f"camera=(), {_DENIED}"
PERMISSIONS_POLICY_CAMERA = f"camera=(self), {_DENIED}"
NO_STORE = "no-store, private"


def _carries_credentials(request: HttpRequest) -> bool:
    return "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES


def _declared_public(response: HttpResponse) -> bool:
    return "public" in response.get("Cache-Control", "")


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match
        camera = match is not None and match.view_name in CAMERA_VIEWS
        response["Permissions-Policy"] = PERMISSIONS_POLICY_CAMERA if camera else PERMISSIONS_POLICY
        if (
            _carries_credentials(request)
            or not response.has_header("Cache-Control")
            or (
                (request.method not in ("GET", "HEAD") or request.path_info.startswith("/api/"))
                and not _declared_public(response)
            )
        ):
            response["Cache-Control"] = NO_STORE
        return response
