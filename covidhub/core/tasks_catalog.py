"""The seven citizen tasks of the seed letter, as entry points on the citizen home.

Each capability registers the URL of its entry page when it lands; until then the
entry explains that the task is coming and where to get help.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class CitizenTask:
    key: str
    title: str | Promise
    description: str | Promise
    icon: str


CITIZEN_TASKS: tuple[CitizenTask, ...] = (
    CitizenTask(
        "declare",
        _("Make a health declaration"),
        _("Declare your health and travel for yourself or your family."),
        "📝",
    ),
    CitizenTask(
        "test_register",
        _("Register for a test"),
        _("Book a COVID-19 test at a site or in your commune's testing round."),
        "🧪",
    ),
    CitizenTask(
        "test_lookup",
        _("Look up a test result"),
        _("Find a result with your appointment code and date of birth."),
        "🔎",
    ),
    CitizenTask(
        "test_results",
        _("Receive test results"),
        _("Your results and your family's, as soon as the laboratory releases them."),
        "📬",
    ),
    CitizenTask(
        "vaccine_register",
        _("Register for vaccination"),
        _("Register yourself or your family and book a vaccination session."),
        "💉",
    ),
    CitizenTask(
        "vaccine_follow",
        _("Follow your vaccinations"),
        _("Your doses, the next due date, and reporting a reaction."),
        "📅",
    ),
    CitizenTask(
        "certificate",
        _("Look up your vaccination certificate"),
        _("Show your signed COVID-19 certificate as a QR code or PDF."),
        "✅",
    ),
)

_entry_urls: dict[str, str] = {}


def register_entry(key: str, url_name: str) -> None:
    _entry_urls[key] = url_name


def entry_url_name(key: str) -> str | None:
    return _entry_urls.get(key)
