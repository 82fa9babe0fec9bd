"""PostgreSQL: check-ins and declarations partitioned by day (covidhub.core.partitions).
Retention drops a whole day's partition; a day without one (the DEFAULT partition) is
deleted row by row; maintenance keeps the days ahead ready and may run any number of
times. SQLite keeps plain tables (the last test)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from covidhub.core.partitions import (
    SPECS,
    is_partitioned,
    partition_list,
    partition_name,
    partitions_cover,
    partitions_maintain,
)
from covidhub.declarations.models import CheckIn, DailyTally, Declaration, FollowUp
from covidhub.declarations.services import checkin_record, retention_run

from .test_retention import _declare

pytestmark = pytest.mark.django_db

CHECKINS = "declarations_checkin"
DECLARATIONS = "declarations_declaration"


def _where(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def _exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_after_migrate_the_tables_are_partitioned_with_today_ahead_and_default():
    today = timezone.localdate()
    for table in (CHECKINS, DECLARATIONS, "audit_auditevent"):
        assert is_partitioned(table)
        parts = partition_list(table)
        assert parts[-1].start is None and parts[-1].name == f"{table}_default"
        assert any(p.start is not None and p.start <= today < p.end for p in parts)
    ahead = today + datetime.timedelta(days=SPECS[CHECKINS].ahead)
    assert _exists(partition_name(SPECS[CHECKINS], ahead))
    # The primary key holds the partition key; Django's pk is still `id`.
    assert CheckIn._meta.pk.name == "id"


@pytest.mark.postgres
def test_a_row_of_a_day_without_partition_lands_in_default_then_moves_when_made(
    citizen, citizen_person, venue
):
    far = timezone.now() + datetime.timedelta(days=60)
    ((checkin, _new),) = checkin_record(
        actor=citizen, venue=venue, people=[citizen_person], now=far
    )
    assert _where(CHECKINS, checkin.pk) == f"{CHECKINS}_default"
    made = partitions_maintain(today=timezone.localdate(far))
    name = partition_name(SPECS[CHECKINS], timezone.localdate(far))
    assert name in made[CHECKINS]
    # The waiting row moved into its new partition, unchanged.
    assert _where(CHECKINS, checkin.pk) == name
    assert CheckIn.objects.get(pk=checkin.pk).uuid == checkin.uuid


@pytest.mark.postgres
def test_maintenance_gives_back_dated_rows_in_default_their_partition(
    citizen, citizen_person, venue
):
    old = timezone.now() - datetime.timedelta(days=20)
    ((checkin, _new),) = checkin_record(
        actor=citizen, venue=venue, people=[citizen_person], now=old
    )
    assert _where(CHECKINS, checkin.pk) == f"{CHECKINS}_default"
    name = partition_name(SPECS[CHECKINS], timezone.localdate(old))
    assert partitions_maintain()[CHECKINS] == [name]
    assert _where(CHECKINS, checkin.pk) == name
    assert partitions_maintain()[CHECKINS] == []


@pytest.mark.postgres
def test_a_bulk_load_covers_its_past_days_once():
    today = timezone.localdate()
    since = today - datetime.timedelta(days=3)
    made = partitions_cover(CHECKINS, since=since, until=today)
    assert made == [
        partition_name(SPECS[CHECKINS], since + datetime.timedelta(days=n)) for n in range(3)
    ]
    assert partitions_cover(CHECKINS, since=since, until=today) == []


@pytest.mark.postgres
def test_maintenance_makes_the_days_ahead_once(citizen):
    spec = SPECS[CHECKINS]
    last = timezone.localdate() + datetime.timedelta(days=spec.ahead)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE "{partition_name(spec, last)}"')
    made = partitions_maintain()
    assert made[CHECKINS] == [partition_name(spec, last)]
    assert made[DECLARATIONS] == []
    assert partitions_maintain() == {CHECKINS: [], DECLARATIONS: [], "audit_auditevent": []}


@pytest.mark.postgres
def test_retention_drops_old_partitions_and_keeps_newer_rows(citizen, citizen_person, child, venue):
    now = timezone.now()
    old = now - datetime.timedelta(days=40)
    older = now - datetime.timedelta(days=100)
    old_day = timezone.localdate(old)
    partitions_maintain(today=old_day)  # as if the deployment ran 40 days ago
    kept_day = timezone.localdate(now - datetime.timedelta(days=29))
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [partition_name(SPECS[CHECKINS], old_day)])
        assert cursor.fetchone()[0] is not None
    # Oldest first: a scan within minutes *after* an open check-in is the same one.
    ((in_default, _),) = checkin_record(actor=citizen, venue=venue, people=[child], now=older)
    (in_old, _), _second = checkin_record(
        actor=citizen, venue=venue, people=[citizen_person, child], now=old
    )
    ((kept, _),) = checkin_record(
        actor=citizen, venue=venue, people=[child], now=now - datetime.timedelta(days=29)
    )
    declared = _declare(citizen, citizen_person, old, no_symptoms=False, symptoms=["fever"])
    followup = FollowUp.objects.get(declaration=declared)
    assert _where(CHECKINS, in_old.pk) == partition_name(SPECS[CHECKINS], old_day)
    assert _where(CHECKINS, in_default.pk) == f"{CHECKINS}_default"

    # The rows were written in this test's transaction: their deferred foreign-key
    # checks would keep PostgreSQL from dropping a partition (retention runs in its own).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    deleted = retention_run(days=30)

    assert deleted == {"declarations": 1, "checkins": 3}
    assert set(CheckIn.objects.values_list("pk", flat=True)) == {kept.pk}
    assert not Declaration.objects.exists()
    # Every partition of a day past retention is gone, the kept day's is there.
    cutoff = timezone.localdate() - datetime.timedelta(days=30)
    for table in (CHECKINS, DECLARATIONS):
        assert all(p.end is None or p.end > cutoff for p in partition_list(table))
    assert _exists(partition_name(SPECS[CHECKINS], kept_day))
    # What the ORM's delete would have done, the drop did too; the counts stay.
    followup.refresh_from_db()
    assert followup.declaration_id is None
    assert DailyTally.objects.get(day=old_day, metric="checkins").value == 2
    assert retention_run(days=30) == {"declarations": 0, "checkins": 0}


@pytest.mark.postgres
def test_control_without_the_partition_the_same_day_is_deleted_row_by_row(
    citizen, citizen_person, venue
):
    """The control: the same retention on a day with no partition of its own removes
    the rows too (the row path), so the test above proves the drop path, not luck."""
    old = timezone.now() - datetime.timedelta(days=45)
    ((row, _),) = checkin_record(actor=citizen, venue=venue, people=[citizen_person], now=old)
    assert _where(CHECKINS, row.pk) == f"{CHECKINS}_default"
    assert retention_run(days=30)["checkins"] == 1
    assert not CheckIn.objects.exists()


def test_on_sqlite_nothing_is_partitioned_and_maintenance_does_nothing():
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL: the tests above")
    assert not is_partitioned(CHECKINS)
    assert partition_list(CHECKINS) == []
    assert partitions_maintain() == {}


@pytest.mark.postgres
def test_the_daily_maintenance_job_is_scheduled_and_makes_partitions(
    django_capture_on_commit_callbacks,
):
    from covidhub.core.schedule import jobs
    from covidhub.core.tasks import partitions_maintain as task
    from covidhub.core.testing import run_queued_tasks

    assert "core.partitions" in {job.name for job in jobs()}
    spec = SPECS[DECLARATIONS]
    last = partition_name(spec, timezone.localdate() + datetime.timedelta(days=spec.ahead))
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE "{last}"')
    with django_capture_on_commit_callbacks(execute=True):
        task.enqueue()
    assert run_queued_tasks() >= 1
    assert _exists(last)


@pytest.mark.postgres
def test_audit_rows_waiting_in_default_are_never_moved():
    """Audit rows may not be deleted: maintenance leaves a month whose rows wait in the
    DEFAULT partition without a partition, and the rows where they are."""
    far = datetime.datetime(2031, 5, 15, 12, tzinfo=datetime.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (at, actor_role, action, object_type, object_id, "
            "request_id, details) VALUES (%s, '', 'test.far', '', '', '', '{}') RETURNING id",
            [far],
        )
        (pk,) = cursor.fetchone()
    made = partitions_maintain(today=datetime.date(2031, 5, 1))
    assert made["audit_auditevent"] == [
        partition_name(SPECS["audit_auditevent"], datetime.date(2031, m, 1)) for m in (6, 7, 8)
    ]
    assert _where("audit_auditevent", pk) == "audit_auditevent_default"
