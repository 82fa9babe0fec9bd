"""Signing keys, the trust list, issued certificates, revocations and status rules.

A private key is stored only as PKCS#8 encrypted with the passphrase from the
environment (`covidhub.certificates.keystore`); the database never holds it in the clear.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SigningKey(models.Model):
    """One of the province's document signer certificates (DSC) and its encrypted key.

    `pending` keys have a key pair and a certificate signing request waiting for the
    national CSCA; `active` ones sign (the newest valid one signs new certificates);
    `retired` ones sign nothing more but stay in the trust list until they expire, so
    that what they signed still verifies.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the signed certificate")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    label = models.CharField(_("label"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    algorithm = models.CharField(_("algorithm"), max_length=5, default="ES256")
    private_key_encrypted = models.TextField(editable=False)
    csr_pem = models.TextField(blank=True, editable=False)
    certificate_der = models.BinaryField(null=True, editable=False)
    kid = models.CharField(_("key identifier"), max_length=16, blank=True, db_index=True)
    not_valid_before = models.DateTimeField(_("valid from"), null=True, blank=True)
    not_valid_after = models.DateTimeField(_("valid until"), null=True, blank=True)
    is_development = models.BooleanField(_("development key"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-not_valid_before", "-id"]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["kid"], condition=~Q(kid=""), name="certificates_signing_key_kid_unique"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | (Q(certificate_der__isnull=False) & ~Q(kid="")),
                name="certificates_signing_key_active_has_certificate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.kid or self.status})"


class HealthCardKey(models.Model):
    """The province's SMART Health Card issuer key (ES256, P-256) and its encrypted key.

    Kept like the DSC keys (`SigningKey`): PKCS#8 encrypted with the passphrase from the
    environment. Exactly one is `active` (it signs new cards); a rotation retires it,
    and retired keys stay published at `/.well-known/jwks.json` so that the cards they
    signed still verify (a health card has no expiry).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    kid = models.CharField(_("key identifier"), max_length=64, unique=True)
    public_jwk = models.JSONField(editable=False)
    private_key_encrypted = models.TextField(editable=False)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("health card key")
        verbose_name_plural = _("health card keys")
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="active"),
                name="certificates_one_active_health_card_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kid} ({self.status})"


class TrustedCertificate(models.Model):
    """A DSC in the published trust list: ours, or imported (e.g. the national list)."""

    class Source(models.TextChoices):
        OWN = "own", _("Our signing key")
        IMPORTED = "imported", _("Imported")

    kid = models.CharField(_("key identifier"), max_length=16, db_index=True)
    certificate_der = models.BinaryField()
    fingerprint = models.CharField(max_length=64, unique=True)
    country = models.CharField(_("country"), max_length=2)
    subject = models.CharField(pgettext_lazy("certificate", "subject"), max_length=300)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    signing_key = models.OneToOneField(
        SigningKey, on_delete=models.CASCADE, null=True, blank=True, related_name="trusted"
    )
    not_valid_before = models.DateTimeField(_("valid from"))
    not_valid_after = models.DateTimeField(_("valid until"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["country", "kid", "id"]
        verbose_name = _("trusted signing certificate")
        verbose_name_plural = _("trusted signing certificates")

    def __str__(self) -> str:
        return f"{self.country} {self.kid}"


class IssuedCertificate(models.Model):
    """One signed DCC. Only one live (unrevoked) certificate exists per source record."""

    class Kind(models.TextChoices):
        VACCINATION = "v", _("Vaccination")
        TEST = "t", _("Test")
        RECOVERY = "r", _("Recovery")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="certificates"
    )
    kind = models.CharField(_("type"), max_length=1, choices=Kind.choices)
    uvci = models.CharField(_("certificate identifier"), max_length=80, unique=True)
    source_type = models.CharField(max_length=40)
    source_id = models.CharField(max_length=64)
    payload = models.JSONField()
    hc1 = models.TextField(editable=False)
    issued_at = models.DateTimeField(_("issued at"))
    expires_at = models.DateTimeField(_("expires at"))
    kid = models.CharField(max_length=16, db_index=True)
    signing_key = models.ForeignKey(
        SigningKey, on_delete=models.PROTECT, related_name="issued", null=True
    )
    # Facts for the status rules, copied out of the payload so that the population
    # preview reads narrow columns instead of JSON.
    event_date = models.DateField()
    sampled_at = models.DateTimeField(null=True, blank=True)
    dose_number = models.PositiveSmallIntegerField(null=True, blank=True)
    total_doses = models.PositiveSmallIntegerField(null=True, blank=True)
    test_positive = models.BooleanField(null=True, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revocation_reason = models.CharField(_("revocation reason"), max_length=200, blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="supersedes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("issued certificate")
        verbose_name_plural = _("issued certificates")
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id"],
                condition=Q(revoked_at__isnull=True),
                name="certificates_one_live_per_source",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["v", "t", "r"]), name="certificates_issued_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["person", "revoked_at"])]

    def __str__(self) -> str:
        return self.uvci

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class PendingIssue(models.Model):
    """A source record whose certificate is to be issued, re-issued or revoked: written in
    the transaction that recorded or corrected it (a transactional outbox), so that it is
    neither lost nor acted on before that commits, and drained in batches by the worker
    (`receivers.pending_drain`). The same record may be queued more than once; the drain
    looks at its current state each time, so a repeat changes nothing."""

    source_type = models.CharField(max_length=40)
    source_pk = models.BigIntegerField()
    queued_at = models.DateTimeField()

    class Meta:
        verbose_name = _("certificate waiting to be issued")
        verbose_name_plural = _("certificates waiting to be issued")

    def __str__(self) -> str:
        return f"{self.source_type}:{self.source_pk}"


class Revocation(models.Model):
    """A published revocation: one certificate by UVCI, or every certificate of a DSC."""

    class Kind(models.TextChoices):
        UVCI = "uvci", _("One certificate")
        KID = "kid", _("Every certificate of a signing key")

    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    value = models.CharField(_("UVCI or key identifier"), max_length=80)
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("revocation")
        verbose_name_plural = _("revocations")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="certificates_revocation_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class StatusRuleSet(models.Model):
    """A version of the province's status-card rules; exactly one is active at a time.

    Versions are never edited once active: a change is a new draft, previewed against
    the population, then activated (the previous one is retired).
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    version = models.PositiveIntegerField(_("version"), unique=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    rules = models.JSONField(_("rules"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("status rule set")
        verbose_name_plural = _("status rule sets")
        constraints = [
            models.UniqueConstraint(
                fields=["state"], condition=Q(state="active"), name="certificates_one_active_rules"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.state})"


class ValueSetRelease(models.Model):
    """One release of the EU DCC value sets (all of them, by valueSetId) as loaded from the
    value-set files or the trust-list sync. The newest release is in force; older ones stay
    so that a verification's recorded version can be looked up. Version 0 (no row) is the
    copy packaged with the application."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    documents = models.JSONField(_("value sets"))
    digest = models.CharField(max_length=64, unique=True)
    source = models.CharField(_("source"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("value set release")
        verbose_name_plural = _("value set releases")

    def __str__(self) -> str:
        return f"value sets v{self.version}"


class AcceptanceRuleSet(models.Model):
    """A version of the province's acceptance rules for one purpose (entry to a venue, to an
    event, for travel): EU-format validation rules in CertLogic. Like the status rules, a
    change is a new draft, previewed, then activated; one active version per purpose. With
    no active version, the rules shipped with the application apply (version 0)."""

    class Purpose(models.TextChoices):
        VENUE = "venue", _("Entry to a venue")
        EVENT = "event", _("Entry to an event")
        TRAVEL = "travel", _("Travel between localities")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    version = models.PositiveIntegerField(_("version"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    rules = models.JSONField(_("rules"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["purpose", "-version"]
        verbose_name = _("acceptance rule set")
        verbose_name_plural = _("acceptance rule sets")
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "version"], name="certificates_acceptance_version_unique"
            ),
            models.UniqueConstraint(
                fields=["purpose"],
                condition=Q(state="active"),
                name="certificates_one_active_acceptance_rules",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="certificates_acceptance_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} v{self.version} ({self.state})"
