"""PostgreSQL: an old month of the audit trail is detached, written out with a chained
manifest and dropped; the archive verifies, and a changed, missing or reordered file is
caught. The months left in the database are untouched."""

from __future__ import annotations

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from covidhub.audit.archive import audit_archive, audit_archive_verify
from covidhub.audit.models import AuditArchive, AuditEvent
from covidhub.audit.services import audit_record
from covidhub.core.partitions import SPECS, partition_name, partitions_maintain

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SPEC = SPECS["audit_auditevent"]


def _event_at(moment: datetime.datetime, action: str) -> None:
    # `at` is set on save (auto_now_add): an old event is written as it would have been.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (at, actor_role, action, object_type, object_id, "
            "request_id, details) VALUES (%s, '', %s, 'people.person', '1', '', '{}')",
            [moment, action],
        )


def _month(year: int, month: int) -> datetime.datetime:
    return datetime.datetime(year, month, 15, 12, tzinfo=ZoneInfo(settings.TIME_ZONE))


def test_an_old_month_is_archived_dropped_and_verifiable(tmp_path, commune_officer):
    partitions_maintain(today=datetime.date(2025, 1, 1))  # January…April 2025
    for n in range(3):
        _event_at(_month(2025, 1), f"test.january.{n}")
    _event_at(_month(2025, 2), "test.february")
    audit_record(actor=commune_officer, action="test.today")
    # The last instant of January (local time) belongs to January.
    _event_at(
        datetime.datetime(2025, 1, 31, 23, 59, 59, tzinfo=ZoneInfo(settings.TIME_ZONE)),
        "test.january.edge",
    )

    written = audit_archive(before=datetime.date(2025, 2, 1), out_dir=tmp_path, drop=True)

    january = partition_name(SPEC, datetime.date(2025, 1, 1))
    assert [m["partition"] for m in written] == [january]
    assert written[0]["rows"] == 4 and written[0]["previous"] == ""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [january])
        assert cursor.fetchone()[0] is None
    assert not AuditEvent.objects.filter(action__startswith="test.january").exists()
    assert AuditEvent.objects.filter(action__in=["test.february", "test.today"]).count() == 2
    lines = (tmp_path / f"{january}.csv").read_text().splitlines()
    assert lines[0].startswith("id,at,") and len(lines) == 5
    assert sorted(line.split(",")[3] for line in lines[1:]) == sorted(
        [*(f"test.january.{n}" for n in range(3)), "test.january.edge"]
    )
    assert audit_archive_verify(archive_dir=tmp_path) == []

    # The next month continues the chain from the first one's manifest.
    second = audit_archive(before=datetime.date(2025, 3, 1), out_dir=tmp_path)
    first_record = AuditArchive.objects.get(partition=january)
    assert second[0]["previous"] == first_record.manifest_sha256
    assert audit_archive_verify(archive_dir=tmp_path) == []
    call_command("partitions", "verify-archive", str(tmp_path), stdout=None)

    # A changed row, a changed manifest and a missing file are each caught.
    csv_path = tmp_path / f"{january}.csv"
    csv_path.write_text(csv_path.read_text().replace("test.january.1", "test.january.X"))
    february = partition_name(SPEC, datetime.date(2025, 2, 1))
    manifest_path = tmp_path / f"{february}.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["rows"] = 0
    manifest_path.write_text(json.dumps(manifest, sort_keys=True, indent=1) + "\n")
    assert audit_archive_verify(archive_dir=tmp_path) == [
        f"{january}: rows changed",
        f"{february}: manifest changed",
    ]
    (tmp_path / f"{february}.csv").unlink()
    assert f"{february}: file missing" in audit_archive_verify(archive_dir=tmp_path)
    with pytest.raises(CommandError):
        call_command("partitions", "verify-archive", str(tmp_path))


def test_the_partitioned_audit_table_still_refuses_changes(commune_officer):
    event = audit_record(actor=commune_officer, action="test.kept")
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [event.pk])
