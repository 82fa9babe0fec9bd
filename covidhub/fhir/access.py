"""Who is reading the FHIR surface, and which people they may see.

`reader_from_request` is the one place a request becomes a `Reader`: a citizen (session or
the app's bearer token) sees their household, a staff member (verified session) the people
of their areas, exactly as `people.selectors.person_queryset_for_actor` decides for every
other page and endpoint. A machine client (OAuth2 bearer token) plugs in through
`bearer_authenticators`: a function that takes a bearer token and returns a `Reader`
(scoped to the client's areas) or None.

Every clinical resource is visible through its patient: an Immunization, Observation,
DiagnosticReport or Specimen is found only when its person is (`people_for`); anything
else answers 404, so that its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from covidhub.accounts.models import User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, primary_role
from covidhub.people.models import Person
from covidhub.people.selectors import person_queryset_for_actor

CITIZEN = "citizen"
STAFF = "staff"
CLIENT = "client"


@dataclass(frozen=True)
class Reader:
    """An authenticated reader. `user` is the account written on the audit trail (a
    machine client's service account, or None); `area_paths` scope a machine client."""

    kind: str
    user: Any
    role: str = ""
    area_paths: tuple[str, ...] = ()
    client_id: str = ""
    # Signed in by a session cookie: unsafe methods then need the CSRF token.
    session: bool = False

    @property
    def audited(self) -> bool:
        """Citizens reading their own household are not audited (as everywhere else)."""
        return self.kind != CITIZEN

    @property
    def may_export(self) -> bool:
        if self.kind == CLIENT:
            return bool(self.area_paths)
        if self.kind == STAFF:
            return actor_scope(self.user).has_role(*OFFICER_ROLES)
        return False

    def export_paths(self) -> tuple[str, ...]:
        """The areas a bulk export may cover (an officer's or a client's areas)."""
        if self.kind == CLIENT:
            return self.area_paths
        if self.kind == STAFF and self.may_export:
            return actor_scope(self.user).area_paths
        return ()

    def owns(self, *, user_id: Any, client_id: str) -> bool:
        if self.kind == CLIENT:
            return bool(self.client_id) and client_id == self.client_id
        return self.user is not None and user_id == self.user.pk and not client_id


BearerAuthenticator = Callable[[str], Reader | None]
# Machine clients (covidhub.clients) append their token check here at start-up.
bearer_authenticators: list[BearerAuthenticator] = []


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or ""


def reader_from_request(request: HttpRequest) -> Reader | None:
    """The reader of this request, or None (401). A bearer token wins over the session:
    a machine client's request carries no session, a citizen's app the app's token."""
    token = _bearer(request)
    if token is not None:
        if not token:
            return None
        for authenticate in bearer_authenticators:
            reader = authenticate(token)
            if reader is not None:
                return reader
        from covidhub.accounts.services import api_token_authenticate

        user = api_token_authenticate(token)
        if user is None or user.kind != User.Kind.CITIZEN:
            return None
        return Reader(kind=CITIZEN, user=user)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if user.kind == User.Kind.CITIZEN:
        return Reader(kind=CITIZEN, user=user, session=True)
    if user.kind == User.Kind.STAFF and user.is_verified():
        return Reader(kind=STAFF, user=user, role=primary_role(actor_scope(user)), session=True)
    return None


def paths_q(paths: tuple[str, ...], field: str) -> Q:
    """Rows whose materialised path lies inside one of `paths`; none for no paths."""
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


def people_for(reader: Reader) -> QuerySet[Person]:
    """Every person the reader may see (default: nobody)."""
    if reader.kind == CLIENT:
        return Person.objects.filter(paths_q(reader.area_paths, "commune_path"))
    if reader.kind in (CITIZEN, STAFF):
        return person_queryset_for_actor(actor=reader.user)
    return Person.objects.none()
