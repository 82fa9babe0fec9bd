"""Old months of the audit trail out of the database, provably whole (PostgreSQL).

`audit_archive` detaches each monthly partition of the audit table older than a month,
writes its rows (CSV ordered by id) and a manifest beside them, and drops the detached
table only when asked. The manifests form a chain: each holds the SHA-256 of its CSV and
the digest of the previous manifest, and every manifest's digest is kept in the database
(`AuditArchive`), so `audit_archive_verify` can prove later that no archived month was
altered or left out, while the months still in the database stay append-only as before.
Run it as the audit table's owner (an administrator after ``audit_lockdown``).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path
from typing import Any

from django.db import connections, transaction

from covidhub.audit.models import AuditArchive
from covidhub.core.partitions import PartitionError, is_partitioned, partition_list, quote

AUDIT_TABLE = "audit_auditevent"


def _manifest_text(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, sort_keys=True, indent=1) + "\n"


def audit_archive(
    *, before: datetime.date, out_dir: Path, drop: bool = False, using: str = "default"
) -> list[dict[str, Any]]:
    """Detach and archive each audit partition whose month ends on or before `before`;
    returns the manifests written, oldest first."""
    if not is_partitioned(AUDIT_TABLE, using=using):
        raise PartitionError("the audit table is not partitioned (SQLite, or not migrated)")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for partition in partition_list(AUDIT_TABLE, using=using):
        if partition.start is None or partition.end is None or partition.end > before:
            continue
        connection = connections[using]
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ALTER TABLE {quote(AUDIT_TABLE)} DETACH PARTITION {quote(partition.name)}"
                )
            csv_path = out_dir / f"{partition.name}.csv"
            digest = hashlib.sha256()
            lines = 0
            with connection.cursor() as cursor, csv_path.open("wb") as out:
                query = (
                    f"COPY (SELECT * FROM {quote(partition.name)} ORDER BY id) "  # noqa: S608
                    "TO STDOUT WITH (FORMAT csv, HEADER)"
                )
                # psycopg's own cursor: COPY streams the rows without holding them.
                with cursor.cursor.copy(query) as copy:
                    for chunk in copy:
                        data = bytes(chunk)
                        digest.update(data)
                        lines += data.count(b"\n")
                        out.write(data)
            previous = AuditArchive.objects.using(using).order_by("-id").first()
            rows = max(lines - 1, 0)
            csv_sha256 = digest.hexdigest()
            previous_sha256 = previous.manifest_sha256 if previous else ""
            manifest: dict[str, Any] = {
                "partition": partition.name,
                "from": partition.start.isoformat(),
                "to": partition.end.isoformat(),
                # One header line; a JSON value with a line break is quoted, counted
                # here too, so this is an upper bound the CSV reader confirms.
                "rows": rows,
                "csv_sha256": csv_sha256,
                "previous": previous_sha256,
            }
            text = _manifest_text(manifest)
            (out_dir / f"{partition.name}.json").write_text(text)
            AuditArchive.objects.using(using).create(
                partition=partition.name,
                period_start=partition.start,
                period_end=partition.end,
                rows=rows,
                csv_sha256=csv_sha256,
                previous_sha256=previous_sha256,
                manifest_sha256=hashlib.sha256(text.encode()).hexdigest(),
            )
            if drop:
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP TABLE {quote(partition.name)}")
        written.append(manifest)
    return written


def audit_archive_verify(*, archive_dir: Path, using: str = "default") -> list[str]:
    """Check every archived month the database knows against the files in `archive_dir`:
    each CSV's digest, each manifest's digest, and the chain of `previous` links.
    Returns the problems found ([] when the archive is whole)."""
    problems = []
    previous = ""
    for record in AuditArchive.objects.using(using).order_by("id"):
        manifest_path = archive_dir / f"{record.partition}.json"
        csv_path = archive_dir / f"{record.partition}.csv"
        if record.previous_sha256 != previous:
            problems.append(f"{record.partition}: chain broken in the database")
        previous = record.manifest_sha256
        if not manifest_path.exists() or not csv_path.exists():
            problems.append(f"{record.partition}: file missing")
            continue
        text = manifest_path.read_text()
        if hashlib.sha256(text.encode()).hexdigest() != record.manifest_sha256:
            problems.append(f"{record.partition}: manifest changed")
        digest = hashlib.sha256()
        with csv_path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != record.csv_sha256:
            problems.append(f"{record.partition}: rows changed")
    return problems
