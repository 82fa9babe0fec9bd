"""The same vaccination certificate as a SMART Health Card and as a WHO DDCC:VS document.

Both are derived on request from the signed EU DCC payload (the record of truth), so
they never disagree with it; a revoked certificate has neither. Callers first obtain the
certificate through `selectors.certificate_get_for_actor` (scope and audit).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from covidhub.certificates.errors import AlreadyRevoked, NotVaccination
from covidhub.certificates.healthcard_keys import healthcard_signer_current
from covidhub.certificates.healthcards.fhir import (
    VaccinationRecord,
    ddcc_vs_document,
    shc_bundle,
    vaccination_record,
)
from covidhub.certificates.healthcards.shc import HealthCard, card_issue
from covidhub.certificates.models import IssuedCertificate

SHC_FILE_CONTENT_TYPE = "application/smart-health-card"
FHIR_CONTENT_TYPE = "application/fhir+json"


def issuer_url() -> str:
    """The card issuer (`iss`): the site, whose `/.well-known/jwks.json` has the keys."""
    return str(settings.SITE_URL).rstrip("/")


def _record(certificate: IssuedCertificate) -> VaccinationRecord:
    if certificate.kind != IssuedCertificate.Kind.VACCINATION:
        raise NotVaccination()
    if certificate.revoked_at is not None:
        raise AlreadyRevoked(_("This certificate is revoked; it has no other formats."))
    return vaccination_record(certificate.payload)


def _series(certificate: IssuedCertificate) -> list[VaccinationRecord]:
    """The holder's live vaccinations up to this one: an SHC verifier counts the doses
    in the card, where a DCC states the dose number."""
    earlier = IssuedCertificate.objects.filter(
        person_id=certificate.person_id,
        kind=IssuedCertificate.Kind.VACCINATION,
        revoked_at__isnull=True,
        event_date__lt=certificate.event_date,
    ).order_by("event_date", "dose_number", "id")
    return [*(vaccination_record(row.payload) for row in earlier), _record(certificate)]


def certificate_health_card(*, certificate: IssuedCertificate) -> HealthCard:
    """The certificate's SMART Health Card, signed with the current issuer key."""
    _record(certificate)
    kid, private_key = healthcard_signer_current()
    return card_issue(
        issuer=issuer_url(),
        not_before=int(certificate.issued_at.timestamp()),
        fhir_bundle=shc_bundle(_series(certificate)),
        private_key=private_key,
        kid=kid,
        # Revoking the certificate (or re-issuing it) puts this card in the issuer's CRL.
        record_id=certificate.uvci,
    )


def health_card_file(card: HealthCard) -> dict[str, Any]:
    """The `.smart-health-card` file a wallet imports."""
    return {"verifiableCredential": [card.jws]}


def certificate_ddcc_vs(*, certificate: IssuedCertificate) -> dict[str, Any]:
    """The certificate as a WHO DDCC:VS FHIR document."""
    return ddcc_vs_document(
        _record(certificate),
        identifier_system=f"{issuer_url()}/uvci",
        issued_at=certificate.issued_at,
        valid_until=certificate.expires_at,
    )
