"""Retention: check-ins and declarations older than N days are deleted by the scheduled
task; the daily counts for statistics survive, through covidhub.core.metrics."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from covidhub.core.metrics import daily_count_sources
from covidhub.core.schedule import jobs
from covidhub.core.testing import run_queued_tasks
from covidhub.declarations.models import CheckIn, Declaration, FollowUp
from covidhub.declarations.services import checkin_record, declaration_submit, retention_run
from covidhub.declarations.tasks import declarations_retention
from covidhub.declarations.validation import declaration_input_clean

from .conftest import answers

pytestmark = pytest.mark.django_db


def _declare(citizen, person, when, **overrides):
    declaration = declaration_submit(
        actor=citizen, person=person, data=declaration_input_clean(answers(**overrides))
    )
    Declaration.objects.filter(pk=declaration.pk).update(
        created_at=when, day=timezone.localdate(when)
    )
    return declaration


def test_old_rows_are_deleted_and_their_daily_counts_kept(
    citizen, citizen_person, child, venue, area_tree
):
    now = timezone.now()
    old = now - datetime.timedelta(days=40)
    _declare(citizen, citizen_person, old, no_symptoms=False, symptoms=["fever"])
    _declare(citizen, child, old)
    _declare(citizen, child, now - datetime.timedelta(days=29))
    _declare(citizen, child, now)
    checkin_record(actor=citizen, venue=venue, people=[citizen_person, child], now=old)
    checkin_record(actor=citizen, venue=venue, people=[child], now=now)
    sources = daily_count_sources()
    since, until = timezone.localdate(old), timezone.localdate(now)
    before = {
        name: sorted((c.day, c.commune_id, c.value) for c in sources[name](since, until))
        for name in ("declarations", "checkins")
    }
    assert sum(v for _d, _c, v in before["declarations"]) == 4
    assert sum(v for _d, _c, v in before["checkins"]) == 3

    deleted = retention_run(days=30)
    assert deleted == {"declarations": 2, "checkins": 2}
    assert Declaration.objects.count() == 2 and CheckIn.objects.count() == 1
    assert not Declaration.objects.filter(
        day__lt=timezone.localdate() - datetime.timedelta(days=30)
    ).exists()
    # The follow-up item stays, without the deleted declaration.
    assert FollowUp.objects.get().declaration is None
    after = {
        name: sorted((c.day, c.commune_id, c.value) for c in sources[name](since, until))
        for name in ("declarations", "checkins")
    }
    assert after == before
    assert retention_run(days=30) == {"declarations": 0, "checkins": 0}
    assert {c.metric for c in sources["checkins"](since, until)} == {"checkins"}


def test_the_retention_task_is_scheduled_and_runs(
    citizen, citizen_person, settings, django_capture_on_commit_callbacks
):
    assert "declarations.retention" in {job.name for job in jobs()}
    settings.DECLARATIONS_RETENTION_DAYS = 5
    _declare(citizen, citizen_person, timezone.now() - datetime.timedelta(days=6))
    with django_capture_on_commit_callbacks(execute=True):
        declarations_retention.enqueue()
    assert run_queued_tasks() >= 1
    assert not Declaration.objects.exists()
