"""Who is reading the FHIR surface, and which people they may see.

`reader_from_request` is the one place a request becomes a `Reader`:

- a machine client (OAuth2 bearer token): each function in `bearer_authenticators` is
  asked first; when the clients app is installed, its `client_actor` is one of them. A
  client acts as its service account, a staff account holding roles in the client's areas,
  so that it is scoped by exactly the rule that scopes staff;
- a citizen (session, or the app's bearer token) sees their household;
- a staff member (TOTP-verified session, or a native staff app's token) sees the people of
  their areas, as `people.selectors.person_queryset_for_actor` decides for every page.

Every clinical resource is visible through its patient: an Immunization, Observation,
DiagnosticReport, Specimen or Condition is found only when its person is (`people_for`); anything
else answers 404, so that its existence is not revealed.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from covidhub.accounts.models import User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, primary_role
from covidhub.people.models import Person
from covidhub.people.selectors import person_queryset_for_actor, person_scope_key

CITIZEN = "citizen"
STAFF = "staff"
CLIENT = "client"


@dataclass(frozen=True)
class Reader:
    """An authenticated reader. `user` is the account the reads are scoped by and audited
    as (for a machine client: its service account); `client_id` names the client."""

    kind: str
    user: Any
    role: str = ""
    client_id: str = ""
    # Signed in by a session cookie: unsafe methods then need the CSRF token.
    session: bool = False
    # A machine client's clinical capabilities it may read ("vaccination", "testing",
    # "homecare"); None for people and staff, whose roles alone decide.
    capabilities: frozenset[str] | None = None

    def reads(self, resource_type: str) -> bool:
        """Whether this reader's scopes cover the resource type: a client with only
        people:read gets a patient's $everything and export without doses or results."""
        capability = CAPABILITY_OF.get(resource_type)
        return self.capabilities is None or capability is None or capability in self.capabilities

    @property
    def audited(self) -> bool:
        """Citizens reading their own household are not audited (as everywhere else)."""
        return self.kind != CITIZEN

    def export_paths(self) -> tuple[str, ...]:
        """The areas a bulk export may cover: an officer's (or a client's account's)."""
        if self.kind not in (STAFF, CLIENT):
            return ()
        scope = actor_scope(self.user)
        return scope.area_paths if scope.has_role(*OFFICER_ROLES) else ()

    def owns(self, *, user_id: Any, client_id: str) -> bool:
        """Whether a bulk export asked for by (user_id, client_id) is this reader's."""
        if self.kind == CLIENT:
            return bool(self.client_id) and client_id == self.client_id
        return self.user is not None and user_id == self.user.pk and not client_id


BearerAuthenticator = Callable[[HttpRequest], Reader | None]
# Asked in order for every request with a bearer token; None means "not mine".
bearer_authenticators: list[BearerAuthenticator] = []

# The vital signs of home-care self-checks: Observations, but home care's, not testing's.
VITAL_SIGNS = "Observation/vital-signs"

# The clients app's scope (capability) a FHIR resource type is read under (Patient:
# people; Organization and Location are public reference data).
CAPABILITY_OF = {
    "Immunization": "vaccination",
    # A test result (the vital signs are VITAL_SIGNS).
    "Observation": "testing",
    "DiagnosticReport": "testing",
    "Specimen": "testing",
    # Home care: the confirmed case followed at home, and the vital signs of its checks. A
    # laboratory's or the testing database's client reads results, not a person's care.
    "Condition": "homecare",
    VITAL_SIGNS: "homecare",
}
# The capabilities that admit a client to a path's resource type: any of them (an
# Observation is a test result or a vital sign; each source is then read only under its
# own capability, `Reader.reads`).
_PATH_CAPABILITIES: dict[str, tuple[str, ...]] = {"Observation": ("testing", "homecare")}


def _clients_reader(request: HttpRequest) -> Reader | None:
    """A machine client of covidhub.clients, when that app is installed: its scopes must
    allow reading the capability the path names (people for Patient, $everything and
    $export). A refused scope or rate limit raises its own domain error (403, 429)."""
    if not apps.is_installed("covidhub.clients"):
        return None
    auth: Any = importlib.import_module("covidhub.clients.auth")
    segment = request.path_info.removeprefix("/fhir/").split("/", 1)[0]
    account = auth.client_actor(
        request,
        capability=_PATH_CAPABILITIES.get(segment) or CAPABILITY_OF.get(segment, "people"),
        access="read",
    )
    if account is None:
        return None
    client = auth.client_from_request(request)
    call = auth.client_call_of(request)
    scopes: Any = importlib.import_module("covidhub.clients.scopes")
    granted = call.scopes if call is not None else frozenset()
    return Reader(
        kind=CLIENT,
        user=account,
        role=primary_role(actor_scope(account)),
        client_id=str(client.uuid) if client is not None else str(account.pk),
        capabilities=frozenset(
            capability
            for capability in set(CAPABILITY_OF.values())
            if scopes.allows(granted, capability=capability, access="read")
        ),
    )


def client_reads_now(client_id: str, key: str) -> bool:
    """Whether the machine client `client_id` (its UUID, as `Reader.client_id`) may read
    `key` (a CAPABILITY_OF key) by the scopes it holds now: a revoked client, an unknown
    one or a scope taken away reads nothing of that capability. For work done later on a
    client's behalf (a bulk export written by the worker)."""
    capability = CAPABILITY_OF.get(key)
    if capability is None:
        return True
    if not apps.is_installed("covidhub.clients"):
        return False
    try:
        key_uuid = uuid.UUID(client_id)
    except ValueError:
        return False
    models: Any = importlib.import_module("covidhub.clients.models")
    scopes: Any = importlib.import_module("covidhub.clients.scopes")
    granted = (
        models.MachineClient.objects.filter(uuid=key_uuid, revoked_at__isnull=True)
        .values_list("scopes", flat=True)
        .first()
    )
    return granted is not None and scopes.allows(
        frozenset(granted), capability=capability, access="read"
    )


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _account_reader(user: Any, *, session: bool) -> Reader | None:
    if user.kind == User.Kind.CITIZEN:
        return Reader(kind=CITIZEN, user=user, session=session)
    if user.kind == User.Kind.STAFF:
        return Reader(kind=STAFF, user=user, role=primary_role(actor_scope(user)), session=session)
    return None


def reader_from_request(request: HttpRequest) -> Reader | None:
    """The reader of this request, or None (401). A bearer token wins over the session."""
    token = _bearer(request)
    if token is not None:
        if not token:
            return None
        for authenticate in (*bearer_authenticators, _clients_reader):
            reader = authenticate(request)
            if reader is not None:
                return reader
        from covidhub.accounts.services import api_token_authenticate

        # The citizen app's tokens, and a native staff app's (issued after the password
        # and a TOTP code, so they stand for a verified staff session).
        user = api_token_authenticate(token)
        return _account_reader(user, session=False) if user is not None else None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if user.kind == User.Kind.STAFF and not user.is_verified():
        return None
    return _account_reader(user, session=True)


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
    if reader.kind in (CITIZEN, STAFF, CLIENT):
        return person_queryset_for_actor(actor=reader.user)
    return Person.objects.none()


def people_key(reader: Reader) -> Hashable:
    """What `people_for` gives the reader, as a key (`person_scope_key`); None: nobody.
    Readers with the same key see the same people through the same SQL."""
    if reader.kind in (CITIZEN, STAFF, CLIENT):
        return person_scope_key(actor=reader.user)
    return None
