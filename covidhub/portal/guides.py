"""The "how to install and use" guides that the seed letter's appendix promises: one for
installing the app and one for each of the seven citizen tasks, and the FAQ.

The text is translated like every other string; the screenshots are real pages captured by
`manage.py portal_screenshots` into static/portal/guides/<language>/<key>.png.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from covidhub.core.tasks_catalog import CITIZEN_TASKS

STATIC_DIR = Path(__file__).resolve().parent / "static" / "portal" / "guides"


@dataclass(frozen=True)
class Guide:
    key: str
    title: str | Promise
    intro: str | Promise
    steps: tuple[str | Promise, ...]

    def screenshot(self, language: str) -> str | None:
        """The static path of the screenshot for the language, if it was captured."""
        name = f"{language}/{self.key}.png"
        return f"portal/guides/{name}" if (STATIC_DIR / name).exists() else None


_TASK_TITLES = {task.key: task.title for task in CITIZEN_TASKS}

GUIDES: tuple[Guide, ...] = (
    Guide(
        "install",
        _("Install covidhub on your phone"),
        _(
            "covidhub works in the web browser of any phone, including cheap Android phones. "
            "You can add it to your home screen so that it opens like an app."
        ),
        (
            _("Open the browser (Chrome, Cốc Cốc, Safari…) and go to the covidhub address."),
            _(
                "Android: open the browser menu (⋮) and choose “Add to home screen” or "
                "“Install app”."
            ),
            _("iPhone: tap the Share button and choose “Add to Home Screen”."),
            _("Open covidhub from the new icon. Sign in with your phone number and the code."),
        ),
    ),
    Guide(
        "declare",
        _TASK_TITLES["declare"],
        _("Declare your health and travel for yourself or a family member in a few minutes."),
        (
            _("Sign in with your phone number and the 6-digit code sent by SMS."),
            _("On the home page choose “Make a health declaration”."),
            _("Choose who the declaration is for: yourself or a family member."),
            _(
                "Answer the questions about the last 14 days: places, symptoms and contacts. "
                "Read the legal warning, confirm and send."
            ),
            _("Keep the confirmation; show your QR code when a venue asks for it."),
        ),
    ),
    Guide(
        "test_register",
        _TASK_TITLES["test_register"],
        _("Book a COVID-19 test at a testing site, or join your commune's testing round."),
        (
            _("Sign in and choose “Register for a test”."),
            _("Choose the person, then a site and a time, or your commune's round."),
            _("Confirm. You receive an appointment with a QR code."),
            _("Bring your QR code (on the phone or printed) to the sampling team."),
        ),
    ),
    Guide(
        "test_lookup",
        _TASK_TITLES["test_lookup"],
        _("Find a test result without signing in, with the appointment code and date of birth."),
        (
            _("Choose “Look up a test result”."),
            _("Enter the code printed on your appointment and the date of birth."),
            _("The result appears if both match; nobody else can see it."),
        ),
    ),
    Guide(
        "test_results",
        _TASK_TITLES["test_results"],
        _(
            "Results arrive by in-app message, SMS and e-mail as soon as the laboratory releases them."
        ),
        (
            _("Sign in and choose “Receive test results”."),
            _("Each result of your household is listed with its date and type of test."),
            _("Open a result to download the signed result document (PDF)."),
        ),
    ),
    Guide(
        "vaccine_register",
        _TASK_TITLES["vaccine_register"],
        _("Register yourself or your family for COVID-19 vaccination and book a session."),
        (
            _("Sign in and choose “Register for vaccination”."),
            _("Choose the person and answer the questions about the priority group."),
            _("When an invitation arrives, choose a site and a session that still has places."),
            _("On the day bring your identity document and your QR code."),
        ),
    ),
    Guide(
        "vaccine_follow",
        _TASK_TITLES["vaccine_follow"],
        _("See the doses you received, the date of the next dose, and report a reaction."),
        (
            _("Sign in and choose “Follow your vaccinations”."),
            _("Each dose is listed with the vaccine, the lot and the site."),
            _("The next due dose and its earliest date are shown; a reminder is sent."),
            _(
                "If you feel unwell after a dose, use “Report a reaction”; call 115 in an emergency."
            ),
        ),
    ),
    Guide(
        "certificate",
        _TASK_TITLES["certificate"],
        _("Show your signed COVID-19 certificate as a QR code or a PDF in Vietnamese and English."),
        (
            _("Sign in and choose “Look up your vaccination certificate”."),
            _("Choose the person; the certificate shows as a QR code."),
            _("Download the PDF to print it, or show the QR code to be scanned."),
        ),
    ),
)


def guide_get(key: str) -> Guide | None:
    return next((g for g in GUIDES if g.key == key), None)


FAQ: tuple[tuple[str | Promise, str | Promise], ...] = (
    (
        _("Do I need a smartphone?"),
        _(
            "No. Any phone with a web browser works. Without a phone, a family member can "
            "manage your records from their account, and the commune health station can help."
        ),
    ),
    (
        _("I did not receive the sign-in code."),
        _(
            "Wait a minute and check the number you typed. You can ask for a new code; after "
            "several attempts, wait an hour or call the support line."
        ),
    ),
    (
        _("Can I declare or register for my children and parents?"),
        _("Yes. Add them to your household once; then choose them in each task."),
    ),
    (
        _("Who can see my health information?"),
        _(
            "Only you and the health staff responsible for your commune, district or province, "
            "and every access by staff is recorded. Public statistics never show small counts "
            "that could point at a person."
        ),
    ),
    (
        _("Why do some figures show “<5” or “*”?"),
        _(
            "Counts below 5 are shown as “<5”, and a few other figures are withheld (“*”) "
            "so that the small ones cannot be worked out by subtraction. This protects the "
            "people behind the numbers."
        ),
    ),
    (
        _("What does “†” next to a figure mean?"),
        _(
            "The number of new cases was entered by health officers from an official report "
            "outside the platform (for example the Ministry of Health's bulletin)."
        ),
    ),
    (
        _("How often are the statistics updated?"),
        _("Every hour for the last days, and completely once a day."),
    ),
)
