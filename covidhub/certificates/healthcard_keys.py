"""The SMART Health Card issuer key: creation, rotation, the current signer and the JWKS.

Custody as for the DSC keys (`keystore.py`): the private key exists only as PKCS#8
encrypted with `COVIDHUB_DSC_PASSPHRASE`; a rotation is audited and retires the previous
key, which stays in the published key set so that the cards it signed still verify.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec
from django.db import transaction
from django.utils import timezone

from covidhub.audit.services import audit_record
from covidhub.certificates.dcc import DccError, private_key_load, private_key_serialize
from covidhub.certificates.errors import NoHealthCardKey, domain_error_from
from covidhub.certificates.healthcards.shc import public_jwk, revocation_id
from covidhub.certificates.keystore import key_passphrase
from covidhub.certificates.models import HealthCardKey, Revocation
from covidhub.core.errors import NotFound

CURRENT_KEY_TTL_SECONDS: Final = 30

_lock = threading.Lock()
# (pk, updated_at) → decrypted key: a key derivation costs tens of milliseconds.
_private_keys: dict[tuple[int, str], ec.EllipticCurvePrivateKey] = {}
_current: dict[str, tuple[float, HealthCardKey]] = {}


def healthcard_key_cache_clear() -> None:
    with _lock:
        _private_keys.clear()
        _current.clear()


@transaction.atomic
def healthcard_key_rotate(*, actor: Any) -> HealthCardKey:
    """Create a new issuer key and make it the one that signs; the old one is retired."""
    previous = list(
        HealthCardKey.objects.select_for_update().filter(status=HealthCardKey.Status.ACTIVE)
    )
    now = timezone.now()
    for key in previous:
        key.status = HealthCardKey.Status.RETIRED
        key.retired_at = now
        key.save(update_fields=["status", "retired_at", "updated_at"])
    private_key = ec.generate_private_key(ec.SECP256R1())
    jwk = public_jwk(private_key.public_key())
    key = HealthCardKey.objects.create(
        kid=jwk["kid"],
        public_jwk=jwk,
        private_key_encrypted=private_key_serialize(
            private_key=private_key, passphrase=key_passphrase()
        ).decode(),
    )
    audit_record(
        actor=actor,
        action="certificates.health_card_key.rotated",
        obj=key,
        details={"kid": key.kid, "retired": [old.kid for old in previous]},
    )
    # This process at once, and again at commit (a reader in between re-caches the old).
    healthcard_key_cache_clear()
    transaction.on_commit(healthcard_key_cache_clear)
    return key


def healthcard_key_current() -> HealthCardKey:
    """The active key, remembered per process for CURRENT_KEY_TTL_SECONDS."""
    with _lock:
        cached = _current.get("key")
    if cached is not None and time.monotonic() - cached[0] < CURRENT_KEY_TTL_SECONDS:
        return cached[1]
    key = HealthCardKey.objects.filter(status=HealthCardKey.Status.ACTIVE).first()
    if key is None:
        raise NoHealthCardKey()
    with _lock:
        _current["key"] = (time.monotonic(), key)
    return key


def healthcard_signer_current() -> tuple[str, ec.EllipticCurvePrivateKey]:
    """(kid, private key) of the active key, decrypted once per process."""
    key = healthcard_key_current()
    cache_key = (key.pk, key.updated_at.isoformat())
    with _lock:
        private_key = _private_keys.get(cache_key)
    if private_key is None:
        try:
            loaded = private_key_load(
                data=key.private_key_encrypted.encode(), passphrase=key_passphrase()
            )
        except DccError as error:
            raise domain_error_from(error) from error
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise NoHealthCardKey()
        private_key = loaded
        with _lock:
            _private_keys[cache_key] = private_key
    return key.kid, private_key


def _revoked_records() -> list[str]:
    return list(
        Revocation.objects.filter(kind=Revocation.Kind.UVCI)
        .order_by("id")
        .values_list("value", flat=True)
    )


def jwks_document() -> dict[str, Any]:
    """Every issuer key, active and retired (public parts only), newest first, each with
    `crlVersion`: one more than the number of revoked certificates, which only grows, so
    that a verifier knows when to fetch `/.well-known/crl/<kid>.json` again."""
    version = Revocation.objects.filter(kind=Revocation.Kind.UVCI).count() + 1
    return {
        "keys": [
            {**jwk, "crlVersion": version}
            for jwk in HealthCardKey.objects.values_list("public_jwk", flat=True)
        ]
    }


def crl_document(*, kid: str) -> dict[str, Any]:
    """The SMART Health Cards revocation list of one key: the `rid` of every card of a
    revoked (or re-issued) certificate, as that key would have written it."""
    if not HealthCardKey.objects.filter(kid=kid).exists():
        raise NotFound()
    records = _revoked_records()
    return {
        "kid": kid,
        "method": "rid",
        "ctr": len(records) + 1,  # the key's crlVersion
        "rids": sorted({revocation_id(kid=kid, record_id=record) for record in records}),
    }
