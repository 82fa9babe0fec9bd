"""Reads of the certificates capability; staff reads are scoped and audited."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.db import transaction
from django.db.models import Count, Min, Prefetch, QuerySet
from django.utils import timezone

from covidhub.accounts.models import User
from covidhub.accounts.scoping import actor_scope, area_path_q, primary_role
from covidhub.audit.services import audit_record
from covidhub.certificates.dcc import KeyMaterialInvalid, certificate_load
from covidhub.certificates.errors import CertificateNotFound
from covidhub.certificates.models import (
    IssuedCertificate,
    PendingIssue,
    Revocation,
    TrustedCertificate,
)
from covidhub.certificates.verification import uvci_hash
from covidhub.core.monitoring import QueueDepth
from covidhub.people.models import Person
from covidhub.people.selectors import household_of


def certificate_queryset_for_actor(*, actor: Any) -> QuerySet[IssuedCertificate]:
    """Certificates the actor may see: a citizen their household's, officers their areas'."""
    if not getattr(actor, "is_authenticated", False):
        return IssuedCertificate.objects.none()
    if actor.kind == User.Kind.CITIZEN:
        return IssuedCertificate.objects.filter(person__managed_by=actor)
    return IssuedCertificate.objects.filter(area_path_q(actor_scope(actor), "person__commune_path"))


def certificate_get_for_actor(
    *, actor: Any, certificate_uuid: uuid.UUID | str
) -> IssuedCertificate:
    """One certificate, or NotFound outside the actor's scope; staff reads are audited."""
    try:
        key = uuid.UUID(str(certificate_uuid))
    except ValueError as error:
        raise CertificateNotFound() from error
    certificate = (
        certificate_queryset_for_actor(actor=actor)
        .select_related("person", "superseded_by")
        .filter(uuid=key)
        .first()
    )
    if certificate is None:
        raise CertificateNotFound()
    if actor.kind == User.Kind.STAFF:
        with transaction.atomic():
            audit_record(
                actor=actor,
                actor_role=primary_role(actor_scope(actor)),
                action="certificates.certificate.viewed",
                obj=certificate,
                person_uuid=certificate.person.uuid,
            )
    return certificate


def household_certificates(*, account: User) -> list[tuple[Person, list[IssuedCertificate]]]:
    """The account's people (self first) with their live certificates, newest first."""
    people = household_of(account=account)
    live = (
        IssuedCertificate.objects.filter(person__in=people, revoked_at__isnull=True)
        .defer("hc1")
        .order_by("-issued_at", "-id")
    )
    by_person: dict[int, list[IssuedCertificate]] = {person.pk: [] for person in people}
    for certificate in live:
        by_person[certificate.person_id].append(certificate)
    return [(person, by_person[person.pk]) for person in people]


def certificate_list_for_person_staff(*, actor: Any, person: Person) -> list[IssuedCertificate]:
    """Every certificate of a person an officer has already opened (scope checked there)."""
    rows = list(
        certificate_queryset_for_actor(actor=actor)
        .filter(person=person)
        .defer("hc1")
        .prefetch_related(Prefetch("supersedes"))
    )
    return rows


def _public_key_spki(der: bytes) -> str | None:
    try:
        certificate = certificate_load(der)
    except KeyMaterialInvalid:
        return None
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(spki).decode()


def trust_list_document() -> dict[str, Any]:
    """The published trust list: every DSC with its kid, validity and public key.

    `public_key` is the SubjectPublicKeyInfo (base64 DER) that WebCrypto imports
    directly, so the offline verifier needs no X.509 parser.
    """
    entries = []
    for entry in TrustedCertificate.objects.order_by("country", "kid", "id"):
        der = bytes(entry.certificate_der)
        spki = _public_key_spki(der)
        if spki is None:
            continue
        entries.append(
            {
                "kid": base64.b64encode(bytes.fromhex(entry.kid)).decode(),
                "kid_hex": entry.kid,
                "country": entry.country,
                "source": entry.source,
                "not_valid_before": entry.not_valid_before.isoformat(),
                "not_valid_after": entry.not_valid_after.isoformat(),
                "certificate": base64.b64encode(der).decode(),
                "public_key": spki,
            }
        )
    return {"generated_at": timezone.now().isoformat(), "certificates": entries}


def revocation_list_document() -> dict[str, Any]:
    """Revoked UVCIs as SHA-256 hashes of their upper-case text, and revoked kids."""
    uvcis = Revocation.objects.filter(kind=Revocation.Kind.UVCI).values_list("value", flat=True)
    kids = Revocation.objects.filter(kind=Revocation.Kind.KID).values_list("value", flat=True)
    return {
        "generated_at": timezone.now().isoformat(),
        "uvci_sha256": sorted(uvci_hash(value) for value in uvcis),
        "kids": sorted(base64.b64encode(bytes.fromhex(kid)).decode() for kid in kids),
    }


def pending_issue_depth() -> QueueDepth:
    """Doses and results whose certificate waits to be issued (the outbox the worker
    drains), for /metrics: it grows when the workers cannot keep up or have no key."""
    waiting = PendingIssue.objects.aggregate(count=Count("pk"), oldest=Min("queued_at"))
    oldest = waiting["oldest"]
    return QueueDepth(
        int(waiting["count"]),
        max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else None,
    )
