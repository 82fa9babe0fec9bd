"""Demo data: a venue owned by the first demo citizen, and a declaration with a symptom
from the second so that the commune's follow-up list is not empty; after the testing
history, the confirmed cases its positive results proposed."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from covidhub.accounts.models import User
from covidhub.areas.models import Area
from covidhub.declarations.models import Case, Declaration, TalliedDay, Venue
from covidhub.declarations.services import (
    case_approve,
    checkin_record,
    declaration_submit,
    retention_run,
    venue_register,
)
from covidhub.declarations.validation import declaration_input_clean, venue_input_clean
from covidhub.people.models import Person

VENUE_OWNER_PHONE = "+84912000001"
DECLARANT_PHONE = "+84912000002"
HOME_COMMUNE = "10507"


@transaction.atomic
def declarations_seed(**context: Any) -> list[str]:
    commune = Area.objects.filter(level=Area.Level.COMMUNE, code=HOME_COMMUNE).first()
    owner = User.objects.filter(phone=VENUE_OWNER_PHONE).first()
    if commune is None or owner is None:
        return []
    venue = Venue.objects.filter(owner=owner).order_by("id").first()
    if venue is None:
        venue = venue_register(
            actor=owner,
            data=venue_input_clean(
                {
                    "name": "Chợ Cẩm Thượng",
                    "kind": Venue.Kind.MARKET,
                    "address_line": "Phố Cẩm Thượng",
                    "commune": commune,
                    "contact_name": "Nguyễn Văn An",
                    "contact_phone": VENUE_OWNER_PHONE,
                }
            ),
        )
    declarant = User.objects.filter(phone=DECLARANT_PHONE).first()
    person = (
        Person.objects.filter(managed_by=declarant, relationship=Person.Relationship.SELF).first()
        if declarant
        else None
    )
    if (
        declarant is not None
        and person is not None
        and not Declaration.objects.filter(person=person).exists()
    ):
        declaration_submit(
            actor=declarant,
            person=person,
            data=declaration_input_clean(
                {
                    "phone": DECLARANT_PHONE,
                    "commune": commune,
                    "address_line": "Số 12 Nguyễn Lương Bằng",
                    "travelled": False,
                    "symptoms": ["cough", "fever"],
                    "contact_case": False,
                    "contact_outbreak_area": False,
                    "contact_symptomatic": True,
                    "consent": True,
                }
            ),
        )
    lines = [
        f"  venue  {venue.name}: check-in code {venue.code_display} (owner {VENUE_OWNER_PHONE})"
    ]
    if (
        not TalliedDay.objects.exists()
        and not Declaration.objects.filter(day__lt=timezone.localdate()).exists()
    ):
        count = _history(venue=venue)
        lines.append(f"  declarations: {count} declarations and check-ins over 60 days")
    return lines


HISTORY_DAYS = 60


def _history(*, venue: Venue) -> int:
    """Declarations and market check-ins of the last 60 days by the people themselves,
    through the same services, dated back to their day; then the retention job runs as it
    runs every night, so that days past the retention period are daily counts only."""
    import random

    rng = random.Random(2021)  # the same story on every machine
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    people = list(
        Person.objects.filter(
            relationship=Person.Relationship.SELF,
            managed_by__phone__startswith="+84",
            commune__dissolved_on__isnull=True,
        )
        .exclude(managed_by__phone__startswith="+8491200000")
        .select_related("managed_by", "commune")
        .order_by("id")[:300]
    )
    if not people:
        return 0
    count = 0
    for ago in range(HISTORY_DAYS, 0, -1):
        day = today - datetime.timedelta(days=ago)
        for person in rng.sample(people, min(len(people), rng.randint(2, 6))):
            account = person.managed_by
            if account is None:  # (the query asked for accounts with a phone)
                continue
            at = datetime.datetime.combine(day, datetime.time(rng.randint(7, 20)), tzinfo=tz)
            declaration = declaration_submit(
                actor=account,
                person=person,
                data=declaration_input_clean(
                    {
                        "phone": account.phone,
                        "commune": person.commune,
                        "address_line": person.address_line or "Hải Dương",
                        "travelled": False,
                        "no_symptoms": True,
                        "contact_case": False,
                        "contact_outbreak_area": False,
                        "contact_symptomatic": False,
                        "consent": True,
                    }
                ),
            )
            Declaration.objects.filter(pk=declaration.pk).update(day=day, created_at=at)
            checkin_record(actor=account, venue=venue, people=[person], now=at)
            count += 2
    retention_run(today=today)
    return count


# The positive results of the testing history proposed cases (a signal, as in production);
# the district officer approved those older than this, the newest still wait.
CASES_APPROVED_AFTER_DAYS = 2


@transaction.atomic
def declarations_cases_seed(**context: Any) -> list[str]:
    """Runs after the testing seeder: the district officer confirms the proposed cases,
    which traces the market's check-ins around each case's visits."""
    officer = User.objects.filter(username="huyen").first()
    if officer is None:
        return []
    cutoff = timezone.localdate() - datetime.timedelta(days=CASES_APPROVED_AFTER_DAYS)
    approved = 0
    for case in Case.objects.filter(
        status=Case.Status.PENDING, source=Case.Source.TESTING, onset_date__lte=cutoff
    ).order_by("onset_date", "id"):
        case_approve(actor=officer, case=case)
        approved += 1
    return [f"  declarations: {approved} confirmed cases traced"] if approved else []
