"""Errors of the DCC core: a stable `code` for machines, an English message for logs.

The core has no Django in it, so its messages are not translated; the certificates app
maps each `code` to a translated message and an HTTP status in one place.
"""

from __future__ import annotations

from typing import Any


class DccError(Exception):
    """A refused DCC operation; `code` is stable and safe to switch on."""

    def __init__(self, message: str, *, code: str, details: dict[str, Any] | None = None) -> None:
        self.message = message
        self.code = code
        self.details = details or {}
        super().__init__(f"{code}: {message}")


class PayloadInvalid(DccError):
    """The health certificate payload breaks the schema, the value sets or our issuing rules.

    Codes: `schema_invalid`, `unknown_code`, `inactive_code`, `inconsistent_codes`,
    `name_missing`, `name_invalid`, `dob_invalid`, `naive_datetime`, `dates_out_of_order`,
    `rat_device_required`, `rat_device_unexpected`, `uvci_invalid`.
    """


class UvciInvalid(DccError):
    """A certificate identifier is malformed or its checksum does not match.

    Codes: `uvci_format`, `uvci_checksum`, `uvci_checksum_missing`.
    """


class KeyMaterialInvalid(DccError):
    """A key or certificate cannot be used for signing or as a trust anchor.

    Codes: `certificate_invalid`, `key_invalid`, `passphrase_required`, `passphrase_wrong`,
    `key_not_encrypted`, `key_mismatch`, `unsupported_key`, `development_key_refused`,
    `dsc_not_valid`, `dsc_validity_exceeded`, `naive_datetime`.
    """
