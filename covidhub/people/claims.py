"""Identity numbers entered by citizens: a per-account limit, and claims instead of clashes.

A number that another record already holds is not refused (that answer would confirm the
number exists, and let whoever registers a real CCCD first lock its owner out): the
person is saved without it and a claim goes to their commune, which checks the card.
The citizen gets the same answer either way. Every number entered counts towards the
account's limit, whether it clashes or not, so that the limit is no oracle either.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from covidhub.accounts.models import User
from covidhub.audit.services import audit_record
from covidhub.core.errors import RateLimited
from covidhub.people.models import CorrectionRequest, IdentityAttempt, Person
from covidhub.people.validation import PersonInput


class IdentityRateLimited(RateLimited):
    code = "identity_rate_limited"
    default_message = _(
        "You have entered many identity numbers today. Please try again tomorrow, or ask "
        "your commune health station for help."
    )


# Switched off only by the concurrency test's control run, to prove the test catches a race.
LOCK_ACCOUNT = True


def _per_day() -> int:
    return int(getattr(settings, "IDENTITY_NUMBERS_PER_ACCOUNT_PER_DAY", 10))


def identity_attempt_record(*, account: User) -> None:
    """Count one identity number entered by `account`, or raise IdentityRateLimited.

    Runs in its own transaction before the write it guards, so that a refusal is
    audited (and an accepted attempt counted) even when that write fails. The account
    row is locked so that parallel requests of one account cannot pass the limit together.
    """
    since = timezone.now() - timedelta(days=1)
    with transaction.atomic():
        if LOCK_ACCOUNT:
            User.objects.select_for_update().filter(pk=account.pk).first()
        # Older rows count for nothing: the table holds at most a day per account.
        IdentityAttempt.objects.filter(account=account, at__lt=since).delete()
        used = IdentityAttempt.objects.filter(account=account, at__gte=since).count()
        if used >= _per_day():
            audit_record(
                actor=account,
                action="people.identity.rate_limited",
                details={"attempts_24h": used},
            )
            refused = True
        else:
            IdentityAttempt.objects.create(account=account)
            refused = False
    if refused:
        raise IdentityRateLimited()


def identity_names_the_holder(*, holder: Person, data: PersonInput) -> bool:
    """Whether `data` names the person who holds the number: the same name (without
    diacritics or case) and birth year, and the same date when both have one. The one rule
    for every staff path that meets a held number (imports, walk-ins)."""
    from covidhub.core.text import fold_ascii

    if fold_ascii(holder.full_name) != fold_ascii(data.full_name):
        return False
    if holder.birth_year != data.birth.year:
        return False
    return holder.birth_date is None or data.birth.as_date() in (None, holder.birth_date)


def identity_holder(*, id_type: str, id_number: str, exclude_pk: int | None) -> Person | None:
    """The record that already holds this identity number, if any."""
    if not id_number:
        return None
    holders = Person.objects.filter(id_type=id_type, id_number=id_number)
    if exclude_pk is not None:
        holders = holders.exclude(pk=exclude_pk)
    return holders.first()


def identity_snapshot(person: Person) -> dict[str, Any]:
    return {
        "full_name": person.full_name,
        "birth": person.birth.iso(),
        "sex": person.sex,
        "id_type": person.id_type,
        "id_number": person.id_number,
    }


def identity_proposed(data: PersonInput) -> dict[str, Any]:
    return {
        "full_name": data.full_name,
        "birth": data.birth.iso(),
        "sex": data.sex,
        "id_type": data.id_type,
        "id_number": data.id_number,
    }


def identity_claim_open(*, account: User, person: Person, data: PersonInput) -> CorrectionRequest:
    """Park `data`'s identity number as a claim on `person` for the commune to verify.

    Called inside the caller's transaction, which has checked that no other request on
    the person is pending (the same check for every number, clashing or not).
    """
    claim = CorrectionRequest.objects.create(
        kind=CorrectionRequest.Kind.CLAIM,
        person=person,
        proposed=identity_proposed(data),
        previous=identity_snapshot(person),
        reason=str(_("Identity number entered by the account; held by another record.")),
        requested_by=account,
    )
    # Not attached to the person's trail: the citizen reads that trail, and the event
    # would tell them the number exists.
    audit_record(
        actor=account,
        action="people.identity_claim.opened",
        obj=claim,
        details={"kind": claim.kind},
    )
    identity_shown_set(person, id_type=data.id_type, masked=claim.proposed_id_masked)
    return claim


def identity_shown_set(person: Person, *, id_type: str, masked: str) -> None:
    """What the account sees as the person's identity document while a claim waits: the
    number as they typed it, exactly as if it had been saved."""
    person.shown_id_type = id_type  # type: ignore[attr-defined]
    person.shown_id_masked = masked  # type: ignore[attr-defined]
