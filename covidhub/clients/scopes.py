"""What a machine client may call: the one rule, used by the API's bearer auth and by the
FHIR surface alike.

A client holds OAuth scopes `<capability>:read` and `<capability>:write`. A request is a
read or a write of one capability; the capability comes from the API path (each capability
has its own prefix) and read/write from the method, except the few POSTs that only read
(a search whose words stay out of the URL, a certificate check). Anything else — a path of
no capability, a capability the client does not hold — is refused (default deny). Which
people, sites and laboratories a client reaches is not a scope but its account's roles,
enforced by the same scoped selectors as for staff (covidhub.accounts.scoping).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

READ = "read"
WRITE = "write"

CAPABILITIES: dict[str, str | Promise] = {
    "people": _("People (records of persons)"),
    "declarations": _("Health declarations and check-ins"),
    "testing": _("Testing (samples, laboratory results)"),
    "vaccination": _("Vaccination"),
    "certificates": _("Certificates"),
    "homecare": _("Home care and quarantine (read through FHIR)"),
}
# Capabilities a client may only read: home care's API serves the people under care and the
# stations' staff, and systems read its orders and vital signs through FHIR.
READ_ONLY: frozenset[str] = frozenset({"homecare"})

# API paths (after /api/v1/) whose first segments name the capability.
_PREFIXES: dict[tuple[str, ...], str] = {
    ("declarations",): "declarations",
    ("testing",): "testing",
    ("vaccination",): "vaccination",
    ("certificates",): "certificates",
    ("staff", "people"): "people",
    # Doses given elsewhere, imported as FHIR Immunizations: a vaccination write.
    ("exchange", "inbound"): "vaccination",
}
# Paths every client may call whatever its scopes: who am I, and signing out.
_OPEN: frozenset[tuple[str, ...]] = frozenset({("me",), ("auth", "logout")})
# POSTs that only read.
_READ_POSTS: frozenset[tuple[str, ...]] = frozenset(
    {("staff", "people", "search"), ("certificates", "verify")}
)
API_ROOT = "/api/v1/"


def scope_name(capability: str, access: str) -> str:
    return f"{capability}:{access}"


def all_scopes() -> dict[str, str]:
    """Every scope a client may be given, with its description (English, for OAuth)."""
    scopes: dict[str, str] = {}
    for capability, label in CAPABILITIES.items():
        scopes[scope_name(capability, READ)] = f"{label} (read)"
        if capability not in READ_ONLY:
            scopes[scope_name(capability, WRITE)] = f"{label} (write)"
    return scopes


@dataclass(frozen=True)
class Need:
    """What a request needs: a capability and an access (None: open to every client)."""

    capability: str | None
    access: str

    @property
    def scope(self) -> str | None:
        return scope_name(self.capability, self.access) if self.capability else None


def need_for(*, path: str, method: str) -> Need | None:
    """The scope an API request needs, or None when no client may call it."""
    if not path.startswith(API_ROOT):
        return None
    parts = tuple(p for p in path[len(API_ROOT) :].split("/") if p)
    if parts in _OPEN:
        return Need(None, READ)
    for prefix, capability in _PREFIXES.items():
        if parts[: len(prefix)] == prefix:
            reads = method in ("GET", "HEAD", "OPTIONS") or (
                method == "POST" and parts in _READ_POSTS
            )
            return Need(capability, READ if reads else WRITE)
    return None


def allows(scopes: frozenset[str] | set[str], *, capability: str, access: str) -> bool:
    """Whether the scopes cover a read or write of the capability (the FHIR surface asks
    with the capability a resource belongs to)."""
    if access == WRITE and capability in READ_ONLY:
        return False
    return capability in CAPABILITIES and scope_name(capability, access) in scopes


def allowed_of(
    scopes: frozenset[str] | set[str], capabilities: tuple[str, ...], *, access: str
) -> str:
    """The first of `capabilities` whose `access` the scopes cover (a FHIR type held by
    several capabilities: a test result and a vital sign are both Observations), else the
    first, whose refusal names the scope asked for."""
    for capability in capabilities:
        if allows(scopes, capability=capability, access=access):
            return capability
    return capabilities[0]
