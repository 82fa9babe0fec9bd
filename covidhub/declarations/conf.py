"""Settings of this capability, with defaults; each may be set in the settings module
(from the environment) under the name shown."""

from __future__ import annotations

from django.conf import settings


def retention_days() -> int:
    """Check-ins and declarations older than this are deleted (their daily counts stay)."""
    return int(getattr(settings, "DECLARATIONS_RETENTION_DAYS", 30))


def exposure_window_minutes() -> int:
    """Check-ins this long before or after a case's visit make F1 candidates."""
    return int(getattr(settings, "DECLARATIONS_EXPOSURE_WINDOW_MINUTES", 60))


def infectious_days_before_onset() -> int:
    """A case's visits count from this many days before the onset of symptoms."""
    return int(getattr(settings, "DECLARATIONS_INFECTIOUS_DAYS_BEFORE_ONSET", 2))


def checkin_repeat_minutes() -> int:
    """A second scan of the same person at the same venue within this is the same check-in."""
    return int(getattr(settings, "DECLARATIONS_CHECKIN_REPEAT_MINUTES", 10))


def default_stay_minutes() -> int:
    """How long a visit is taken to last when the person did not check out."""
    return int(getattr(settings, "DECLARATIONS_DEFAULT_STAY_MINUTES", 60))
