"""The value sets in force: releases loaded from EU value-set files or the trust-list sync.

A release holds every value set by valueSetId. Loading merges the given files into the
newest release (a sync that brings only a new device list keeps the other sets) and
stores a new version only when something changed. The release in force is cached per
process for `VALUE_SETS_TTL_SECONDS`, like the trust list.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from typing import Any, Final

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.audit.services import audit_record
from covidhub.certificates.dcc.valuesets import (
    ValueSetInvalid,
    ValueSets,
    is_jrc_device_list,
    packaged_value_set_documents,
    value_set_document_check,
    value_set_from_jrc_devices,
    value_sets_from_documents,
    value_sets_load,
)
from covidhub.certificates.models import ValueSetRelease
from covidhub.core.errors import InvalidInput
from covidhub.core.locks import transaction_lock

VALUE_SETS_TTL_SECONDS: Final = 60

_lock = threading.Lock()
_cache: dict[str, tuple[float, ValueSets]] = {}


def value_sets_cache_clear() -> None:
    with _lock:
        _cache.clear()


def release_version_label(version: int) -> str:
    return f"release-{version}"


def _digest(documents: Mapping[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(documents, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def value_sets_current() -> ValueSets:
    """The newest release (or the packaged copy when none was loaded), cached."""
    with _lock:
        cached = _cache.get("current")
    if cached is not None and time.monotonic() - cached[0] < VALUE_SETS_TTL_SECONDS:
        return cached[1]
    row = ValueSetRelease.objects.order_by("-version").first()
    if row is None:
        sets = value_sets_load()
    else:
        sets = value_sets_from_documents(row.documents, version=release_version_label(row.version))
    with _lock:
        _cache["current"] = (time.monotonic(), sets)
    return sets


def value_set_documents_current() -> tuple[str, dict[str, Any]]:
    """(version label, documents by valueSetId) of the release in force."""
    row = ValueSetRelease.objects.order_by("-version").first()
    if row is None:
        return value_sets_load().version, packaged_value_set_documents()
    return release_version_label(row.version), row.documents


def value_sets_release_load(
    *, documents: list[Any], source: str, actor: Any
) -> tuple[ValueSetRelease | None, bool]:
    """Merge EU value-set files into the newest release; (release, created).

    A JRC device list (the HSC common list JSON) stands for the antigen-test device value
    set and is converted to it first. Every file is checked first and nothing is stored
    if one is not a value set (`InvalidInput` naming it). A load that changes nothing
    creates no version, so a sync that runs every hour keeps one version per real change.
    """
    checked: dict[str, Any] = {}
    for position, given in enumerate(documents):
        try:
            document = (
                value_set_from_jrc_devices(given, today=timezone.localdate())
                if is_jrc_device_list(given)
                else given
            )
            checked[value_set_document_check(document)] = document
        except ValueSetInvalid as error:
            raise InvalidInput(
                _("File %(number)s is not an EU value-set file: %(problem)s")
                % {"number": position + 1, "problem": error.message},
                code="value_set_invalid",
            ) from error
    if not checked:
        raise InvalidInput(_("No value-set file was given."), code="value_set_invalid")
    with transaction.atomic():
        # Loads run in turn (a command and the hourly sync may meet): each merges into the
        # newest release as it is once the one before has committed.
        transaction_lock("certificates.value_set_release")
        newest = ValueSetRelease.objects.order_by("-version").first()
        base = dict(newest.documents) if newest else dict(packaged_value_set_documents())
        merged = {**base, **checked}
        digest = _digest(merged)
        if newest is not None and newest.digest == digest:
            return newest, False
        if newest is None and digest == _digest(packaged_value_set_documents()):
            return None, False
        try:
            value_sets_from_documents(merged, version="candidate")
        except ValueSetInvalid as error:
            raise InvalidInput(error.message, code="value_set_invalid") from error
        last = ValueSetRelease.objects.aggregate(v=Max("version"))["v"] or 0
        release = ValueSetRelease.objects.create(
            version=last + 1,
            documents=merged,
            digest=digest,
            source=source[:200],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor if getattr(actor, "pk", None) else None,
            action="certificates.value_sets.loaded",
            obj=release,
            details={
                "version": release.version,
                "changed": sorted(checked),
                "source": source[:200],
            },
        )
        transaction.on_commit(value_sets_cache_clear)
    return release, True


def value_sets_document() -> dict[str, Any]:
    """The public value-set list: version, each set's date, and the documents."""
    version, documents = value_set_documents_current()
    return {
        "version": version,
        "dates": {vs_id: document.get("valueSetDate") for vs_id, document in documents.items()},
        "valueSets": documents,
    }
