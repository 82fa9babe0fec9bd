"""Scheduled jobs of the portal (registered in PortalConfig.ready)."""

from __future__ import annotations

import datetime
from typing import Any

from django.tasks import task


def _summary(result: Any) -> dict[str, Any]:
    return {
        "since": result.since.isoformat(),
        "until": result.until.isoformat(),
        "cells": result.cells,
        "seconds": round(result.seconds, 2),
    }


@task()
def stats_rollup_recent() -> dict[str, Any]:
    """Hourly: the last few days again (late results and entries change them)."""
    from covidhub.portal import rollup

    return _summary(rollup.stats_rollup_recent())


@task()
def stats_rollup_full() -> dict[str, Any]:
    """Daily: every day since the start of the statistics."""
    from covidhub.portal import rollup

    return _summary(rollup.stats_rollup_full())


@task()
def stats_rollup_days(since: str, until: str) -> dict[str, Any]:
    """After an official entry: the days it touched."""
    from covidhub.portal import rollup

    return _summary(
        rollup.stats_rollup(
            since=datetime.date.fromisoformat(since), until=datetime.date.fromisoformat(until)
        )
    )


@task()
def announcement_publish_due() -> int:
    """Every minute: scheduled announcements whose time has come go live."""
    from covidhub.portal.services import announcement_publish_due as publish_due

    return publish_due()
