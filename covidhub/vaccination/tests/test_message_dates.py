"""Dates in the messages vaccination sends are written in the recipient's language, as the
pages write them: 11/10/2021 in Vietnamese, 11 Oct 2021 in English (issue 17)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation

from covidhub.notifications.models import Message
from covidhub.vaccination import services
from covidhub.vaccination.models import PersonVaccination

pytestmark = pytest.mark.django_db
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# The recipient's language, and the language active while the message is built (the
# officer's, the worker's): the date must follow the recipient's, not the active one.
LANGUAGES = [("en", "vi"), ("vi", "en")]


def _written(day: datetime.date, language: str) -> str:
    if language == "en":
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return f"{day:%d/%m/%Y}"


def _bodies(account) -> list[str]:
    bodies = [m.body for m in Message.objects.filter(user=account, channel="inapp")]
    bodies += [m.body for m in Message.objects.filter(to=account.phone, channel="sms")]
    return bodies


@pytest.mark.parametrize(("language", "active"), LANGUAGES)
def test_reminder_writes_the_due_date_in_the_recipients_language(
    citizen, citizen_person, district_officer, vaccines, language, active
):
    services.dose_record_elsewhere(
        actor=district_officer,
        person=citizen_person,
        vaccine=vaccines["astrazeneca"],
        administered_on=datetime.date(2021, 7, 19),
        place="Bệnh viện Bạch Mai, Hà Nội",
        evidence_note="Giấy xác nhận tiêm chủng số 123",
    )
    citizen.language = language
    citizen.save(update_fields=["language"])
    due = datetime.date(2021, 10, 11)  # 11/10/2021: 10 November to an English reader
    PersonVaccination.objects.filter(person=citizen_person).update(
        next_due_on=due, next_earliest_on=due, reminded_for=""
    )
    with translation.override(active):
        assert services.reminders_send(today=datetime.date(2021, 10, 9)) == 1
    bodies = _bodies(citizen)
    assert len(bodies) == 2
    for body in bodies:
        assert _written(due, language) in body
        assert _written(due, active) not in body
    assert "11 Oct 2021" in bodies[0] if language == "en" else "11/10/2021" in bodies[0]


@pytest.mark.parametrize(("language", "active"), LANGUAGES)
def test_invitation_writes_the_session_date_in_the_recipients_language(
    make_citizen, register, site, district_officer, make_session, language, active
):
    account = make_citizen("+84912000101", full_name="Người Được Mời")
    account.language = language
    account.save(update_fields=["language"])
    register(account.people.get(), "g01")
    day = timezone.localdate() + datetime.timedelta(days=9)
    session = make_session(site=site, self_booking=False, date=day)
    with translation.override(active):
        assert len(services.invitations_send(actor=district_officer, session=session, count=1))
    bodies = _bodies(account)
    assert bodies
    for body in bodies:
        assert _written(day, language) in body
        assert _written(day, active) not in body
