"""Domain errors of the certificates capability, and the translation of DCC core codes.

The DCC core (`dcc/`) has no Django and raises `DccError` with stable codes; this module
maps each to a translated message and an HTTP status in one place.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from covidhub.certificates.dcc import DccError
from covidhub.core.errors import Conflict, DomainError, InvalidInput, NotFound


class NoSigningKey(DomainError):
    code = "no_signing_key"
    status = 503
    default_message = _(
        "No valid signing key is available. An administrator must create or import one."
    )


class NoHealthCardKey(DomainError):
    code = "no_health_card_key"
    status = 503
    default_message = _(
        "SMART Health Cards cannot be issued yet: an administrator must create the issuer key."
    )


class NotVaccination(DomainError):
    code = "not_vaccination"
    status = 404
    default_message = _(
        "Only a vaccination certificate is available as a SMART Health Card or WHO DDCC:VS."
    )


class KeyRefused(DomainError):
    code = "key_refused"
    status = 422
    default_message = _("This key or certificate cannot be used.")


class NotIssuable(DomainError):
    code = "not_issuable"
    status = 422
    default_message = _("A certificate cannot be issued from these data.")


class AlreadyRevoked(Conflict):
    code = "already_revoked"
    default_message = _("This certificate is already revoked.")


class CertificateNotFound(NotFound):
    code = "certificate_not_found"


_KEY_MESSAGES: dict[str, Promise] = {
    "certificate_invalid": _("The certificate cannot be read or was not issued by this CSCA."),
    "key_invalid": _("The key or request is invalid."),
    "passphrase_required": _("The key passphrase is not configured."),
    "passphrase_wrong": _("The key cannot be decrypted: wrong passphrase or damaged key."),
    "key_not_encrypted": _("The private key is stored unencrypted; it is refused."),
    "key_mismatch": _("The certificate does not belong to this key."),
    "unsupported_key": _("Only EC P-256 and RSA keys can sign certificates."),
    "development_key_refused": _("A development key cannot sign certificates in production."),
    "dsc_not_valid": _("The signing certificate is not valid at this time."),
    "dsc_validity_exceeded": _("The certificate would outlive its signing certificate."),
}

_PAYLOAD_MESSAGES: dict[str, Promise] = {
    "schema_invalid": _("The certificate data do not match the EU DCC schema."),
    "unknown_code": _("A code is not in the EU DCC value sets."),
    "inactive_code": _("A code is deprecated in the EU DCC value sets."),
    "inconsistent_codes": _("The vaccine product, manufacturer and type do not match."),
    "name_missing": _("The person's name is missing."),
    "name_invalid": _("The person's name cannot be written on a certificate."),
    "dob_invalid": _("The date of birth is not valid for a certificate."),
    "dates_out_of_order": _("The recovery dates are out of order."),
    "rat_device_required": _("A rapid antigen test needs its device code."),
    "rat_device_unexpected": _("Only a rapid antigen test names a device."),
    "uvci_invalid": _("The certificate identifier is not valid."),
    "naive_datetime": _("A time without a time zone was given."),
}


def domain_error_from(error: DccError) -> DomainError:
    """The translated domain error for a refusal of the DCC core."""
    if error.code in _KEY_MESSAGES:
        return KeyRefused(_KEY_MESSAGES[error.code], code=error.code)
    if error.code in _PAYLOAD_MESSAGES:
        return NotIssuable(_PAYLOAD_MESSAGES[error.code], code=error.code)
    return InvalidInput(code=error.code)
