"""The demo province tells one story: the citizens' doses, results and certificates agree
on every page, there is history over the last 60 days for the charts, and one more dose
adds one certificate."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from covidhub.accounts.models import User
from covidhub.certificates.models import IssuedCertificate
from covidhub.certificates.receivers import pending_drain
from covidhub.core.metrics import daily_count_sources
from covidhub.people.models import Person
from covidhub.testing.models import Result
from covidhub.vaccination.models import Dose, PersonVaccination, Session, Vaccine
from covidhub.vaccination.services.day import dose_record_elsewhere

pytestmark = pytest.mark.django_db
AN, BINH = "+84912000001", "+84912000002"


@pytest.fixture
def seeded():
    call_command("seed_demo", "--people", "600", "--quiet", stdout=StringIO())


def _person(phone: str) -> Person:
    return Person.objects.get(managed_by__phone=phone, relationship=Person.Relationship.SELF)


def _live_vaccination(person: Person) -> list[tuple[int, int, datetime.date]]:
    return sorted(
        IssuedCertificate.objects.filter(
            person=person, kind="v", revoked_at__isnull=True
        ).values_list("dose_number", "total_doses", "event_date")
    )


def test_citizens_doses_and_certificates_agree(seeded, login):
    today = timezone.localdate()
    for phone, numbers in ((AN, [1, 2]), (BINH, [1])):
        person = _person(phone)
        doses = list(
            Dose.objects.filter(person=person, status=Dose.Status.VALID).order_by("sequence")
        )
        assert [dose.dose_number for dose in doses] == numbers
        assert all(today - datetime.timedelta(days=60) <= d.day < today for d in doses)
        assert _live_vaccination(person) == [(d.dose_number, 2, d.day) for d in doses]
        client = login(User.objects.get(phone=phone))
        for page in ("/vaccination/me/", "/certificates/"):
            html = client.get(page).content.decode()
            assert "2021" not in html, page
    # Bình's second dose falls due after the day the demo is seeded, within its week of
    # sessions: never a window already past ("from 2 Dec, due by 2 Dec" on 6 Dec).
    status = PersonVaccination.objects.get(person=_person(BINH))
    assert status.next_earliest_on is not None and status.next_due_on is not None
    assert today < status.next_earliest_on <= status.next_due_on
    assert Session.objects.filter(date__gte=status.next_earliest_on).exists()
    html = login(User.objects.get(phone=BINH)).get("/vaccination/me/").content.decode()
    assert status.next_due_on.strftime("%d/%m/%Y") in html
    assert "book a session as soon as you can" not in html and "sớm nhất có thể" not in html
    an = _person(AN)
    negative = Result.objects.get(person=an)
    assert negative.outcome == Result.Outcome.NEGATIVE
    assert (
        IssuedCertificate.objects.filter(person=an, kind="t", revoked_at__isnull=True).count() == 1
    )


def test_one_more_dose_adds_one_certificate(seeded, make_staff):
    from covidhub.areas.models import Area

    binh = _person(BINH)
    officer = make_staff("officer", "commune_officer", Area.objects.get(pk=binh.commune_id))
    dose_record_elsewhere(
        actor=officer,
        person=binh,
        vaccine=Vaccine.objects.get(code="pfizer"),
        administered_on=timezone.localdate(),
        place="Bệnh viện Đa khoa tỉnh",
        evidence_note="Phiếu tiêm chủng",
    )
    pending_drain()
    assert [(n, total) for n, total, _day in _live_vaccination(binh)] == [(1, 2), (2, 2)]


def test_charts_have_history_over_the_last_60_days(seeded):
    today = timezone.localdate()
    since = today - datetime.timedelta(days=60)
    days: dict[str, set[datetime.date]] = {}
    for _name, source in daily_count_sources().items():
        for count in source(since, today):
            if count.value:
                days.setdefault(count.metric, set()).add(count.day)
    assert len(days["doses"]) >= 30
    assert len(days["tests"]) >= 50
    assert len(days["declarations"]) >= 30


def test_every_page_of_the_catalogue_has_its_demo_object(seeded):
    """The every-page browser suite opens each page on an object of the demo province: a
    case, a booking at today's session, an import, a correction, a ticket… (none missing)."""
    from django.urls import reverse

    from covidhub.core.tests.every_page import PAGES

    for name, page in PAGES.items():
        if page.build is not None:
            assert reverse(name, kwargs=page.build()), name
