"""The trust-list sync: DSCs and value sets from a trust hub that publishes our format.

A hub (the national one, or another province's covidhub) serves `trust-list.json` and
`value-sets.json` as `/certificates/trust-list.json` and `/certificates/value-sets.json`
do here. Each run imports the DSCs it does not have yet and loads the value sets as a new
release when they changed (`value_sets_release_load` keeps the versions). A list that
fails to download or to parse changes nothing at all (both lists are applied in one
transaction); the error says which.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from covidhub.certificates.keystore import trust_list_import
from covidhub.certificates.value_sets import value_sets_release_load
from covidhub.core.errors import DomainError

MAX_DOCUMENT_BYTES: Final = 32 * 1024 * 1024


class SyncFailed(DomainError):
    code = "sync_failed"
    status = 502


@dataclass(frozen=True)
class SyncReport:
    certificates: int
    certificates_added: int
    value_sets: int
    value_sets_version: int | None
    value_sets_changed: bool


def _fetch_json(url: str, *, what: str) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - the operator's own setting
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=settings.CERTIFICATES_TRUST_SYNC_TIMEOUT
        ) as response:
            body = response.read(MAX_DOCUMENT_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise SyncFailed(
            _("The hub answered %(status)s for the %(what)s.")
            % {"status": error.code, "what": what}
        ) from error
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
        raise SyncFailed(_("The hub cannot be reached for the %(what)s.") % {"what": what}) from (
            error
        )
    if len(body) > MAX_DOCUMENT_BYTES:
        raise SyncFailed(_("The %(what)s from the hub is too large.") % {"what": what})
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SyncFailed(_("The %(what)s from the hub is not JSON.") % {"what": what}) from error


def _certificates(document: Any) -> list[bytes]:
    try:
        return [
            base64.b64decode(entry["certificate"], validate=True)
            for entry in document["certificates"]
        ]
    except (KeyError, TypeError, binascii.Error) as error:
        raise SyncFailed(
            _("The trust list from the hub is not in the published format.")
        ) from error


def _value_set_documents(document: Any) -> list[Any]:
    """`{"valueSets": {id: file}}` (our published form) or a plain list of files."""
    if isinstance(document, dict) and isinstance(document.get("valueSets"), dict):
        return list(document["valueSets"].values())
    if isinstance(document, list):
        return document
    raise SyncFailed(_("The value sets from the hub are not in the published format."))


def certificates_trust_sync(*, base_url: str | None = None, actor: Any = None) -> SyncReport:
    """Download and apply the hub's trust list and value sets."""
    base = (base_url or settings.CERTIFICATES_TRUST_SYNC_URL or "").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise SyncFailed(_("No trust hub is configured (CERTIFICATES_TRUST_SYNC_URL)."))
    trust = _certificates(_fetch_json(f"{base}/trust-list.json", what=_("trust list")))
    sets = _value_set_documents(_fetch_json(f"{base}/value-sets.json", what=_("value sets")))
    # Both or neither: a hub whose value sets are broken does not half-apply.
    with transaction.atomic():
        added = trust_list_import(actor=actor, certificates_data=trust)
        release, changed = value_sets_release_load(
            documents=sets, source=f"sync: {base}"[:200], actor=actor
        )
    return SyncReport(
        certificates=len(trust),
        certificates_added=added,
        value_sets=len(sets),
        value_sets_version=release.version if release else None,
        value_sets_changed=changed,
    )
