"""The reverse proxy's body limit (nginx `client_max_body_size` in docs/operations.md) fits
every upload the application takes, and not much more (issue 16): too small, a lab's 20 MB
result file dies at the proxy with its bare 413 page before the application can say why; far
too large, the proxy buffers bodies that the application will refuse anyway."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

OPERATIONS = Path(__file__).resolve().parents[3] / "docs" / "operations.md"
MB = 1024 * 1024
# What a multipart form adds around its file (boundaries, the other fields, the form token).
FORM_OVERHEAD = 1 * MB


def application_upload_limits() -> dict[str, int]:
    """The largest body each kind of request may have in the application."""
    from covidhub.adoption.rosters import roster_max_bytes
    from covidhub.portal.services import IMAGE_MAX_BYTES
    from covidhub.testing.imports import MAX_BYTES as LAB_FILE
    from covidhub.vaccination.services.day import MAX_EVIDENCE_BYTES
    from covidhub.vaccination.services.registration import MAX_IMPORT_BYTES

    return {
        "lab result file": LAB_FILE + FORM_OVERHEAD,
        "registration list": MAX_IMPORT_BYTES + FORM_OVERHEAD,
        "staff roster": roster_max_bytes() + FORM_OVERHEAD,
        "dose evidence": MAX_EVIDENCE_BYTES + FORM_OVERHEAD,
        "portal image": IMAGE_MAX_BYTES + FORM_OVERHEAD,
        "JSON or form body": settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    }


def _documented_limit() -> int:
    text = OPERATIONS.read_text(encoding="utf-8")
    found = re.findall(r"client_max_body_size\s+(\d+)([mMkK]?);", text)
    assert found, "docs/operations.md shows no client_max_body_size"
    values = {int(n) * (MB if unit.lower() == "m" else 1024 if unit else 1) for n, unit in found}
    assert len(values) == 1, f"docs/operations.md names several body limits: {found}"
    return values.pop()


def test_the_documented_proxy_limit_fits_every_upload_and_not_much_more() -> None:
    limit = _documented_limit()
    needed = application_upload_limits()
    too_small = {kind: size for kind, size in needed.items() if size > limit}
    assert too_small == {}, f"raise client_max_body_size to {max(needed.values()) // MB} MB"
    assert limit <= max(needed.values()) + 2 * MB, "client_max_body_size is far above any upload"
