"""Writes of the declarations capability: declarations, venues, check-ins, follow-up,
confirmed cases and exposure tracing, retention. Every staff read or write of a person's
health data is audited in the same transaction."""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connections, models, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.accounts.models import User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, primary_role
from covidhub.audit.services import audit_record, audit_record_many
from covidhub.core.dates import date_text
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.core.localcache import LocalCache
from covidhub.core.partitions import partitions_drop_before
from covidhub.core.phones import phone_normalise
from covidhub.core.rawsql import db_values, message_cursor, model_rows, placeholders
from covidhub.declarations import conf
from covidhub.declarations.errors import (
    AccountUnknown,
    CaseAlreadyOpen,
    CaseNotConfirmed,
    CaseNotPending,
    NoPeopleChosen,
    SecondOfficerRequired,
    VenueUnknown,
)
from covidhub.declarations.models import (
    SEVERE_SYMPTOMS,
    Case,
    CheckIn,
    DailyTally,
    Declaration,
    Exposure,
    ExposureCandidate,
    FollowUp,
    FollowUpCall,
    PersonalCard,
    TalliedDay,
    Venue,
    VenueStaff,
)
from covidhub.declarations.signals import case_confirmed
from covidhub.declarations.tokens import (
    KIND_CARD,
    QrRevoked,
    QrUnknown,
    personal_token_issue,
    personal_token_read,
    venue_code_read,
)
from covidhub.declarations.validation import DeclarationInput, VenueInput
from covidhub.notifications.language import notice_language
from covidhub.people.models import Person
from covidhub.people.status import StatusColour, status_for

logger = logging.getLogger("covidhub.declarations")
VENUE_STAFF_ROLE = "venue_staff"
# Tests turn this off to show that, without the lock, simultaneous scans double-insert.
LOCK_PEOPLE_ON_CHECKIN = True
TRACE_RANGES_PER_QUERY = 50
# A margin on the day bounds of check-in reads: a row's `day` is a local date.
ONE_DAY = datetime.timedelta(days=1)


def _role(actor: Any) -> str:
    return primary_role(actor_scope(actor)) or (
        VENUE_STAFF_ROLE if getattr(actor, "kind", "") == User.Kind.CITIZEN else ""
    )


def _is_officer_for(actor: Any, path: str) -> bool:
    scope = actor_scope(actor)
    return scope.has_role(*OFFICER_ROLES) and scope.covers_path(path)


def _household_member(*, account: Any, person: Person) -> None:
    if not getattr(account, "is_authenticated", False) or person.managed_by_id != account.pk:
        raise NotFound()


# Declarations --------------------------------------------------------------------------


def _urgency(data: DeclarationInput) -> int:
    if SEVERE_SYMPTOMS.intersection(data.symptoms) or data.exposures.get(
        Exposure.CONFIRMED_OR_SUSPECTED
    ):
        return FollowUp.Urgency.URGENT
    if data.has_symptoms and data.has_exposure:
        return FollowUp.Urgency.HIGH
    return FollowUp.Urgency.LOW


def declaration_submit(*, actor: Any, person: Person, data: DeclarationInput) -> Declaration:
    """Record a declaration for the account's own person or a family member.

    A symptom or an exposure puts an item on the follow-up list of the commune where the
    person is staying, in the same transaction. A declaration without one is a single
    INSERT (no explicit transaction: one round trip less in the morning wave).
    """
    _household_member(account=actor, person=person)
    now = timezone.now()
    declaration = Declaration(
        person=person,
        submitted_by=actor,
        full_name=person.full_name,
        birth_year=person.birth_year,
        phone=data.phone,
        address_line=data.address_line,
        commune=data.commune,
        commune_path=data.commune.path,
        answers=data.answers(),
        has_symptoms=data.has_symptoms,
        has_exposure=data.has_exposure,
        day=timezone.localdate(now),
    )
    if not (data.has_symptoms or data.has_exposure):
        declaration.save(force_insert=True)
        return declaration
    reasons = [*data.symptoms, *(["other_symptoms"] if data.other_symptoms else [])]
    reasons += [name for name, answer in data.exposures.items() if answer]
    with transaction.atomic():
        declaration.save(force_insert=True)
        FollowUp.objects.create(
            person=person,
            declaration=declaration,
            commune=data.commune,
            commune_path=data.commune.path,
            reasons=reasons,
            urgency=_urgency(data),
        )
    return declaration


def declaration_submit_for_uuid(
    *, actor: Any, person_uuid: Any, data: DeclarationInput
) -> Declaration:
    """declaration_submit for the API, which names the person by UUID.

    Most declarations of the morning wave have no symptom and no exposure: for those the
    household check, the name snapshot and the insert are one statement
    (INSERT ... SELECT FROM the person WHERE the account manages them), one round trip.
    The others read the person and go through declaration_submit.
    """
    try:
        key = uuid.UUID(str(person_uuid))
    except ValueError as exc:
        raise NotFound() from exc
    if data.has_symptoms or data.has_exposure or not getattr(actor, "is_authenticated", False):
        people = model_rows(
            Person,
            "managed_by_id = %s AND uuid = %s",
            [getattr(actor, "pk", None), *db_values(Person, "uuid", [key])],
        )
        if not people:
            raise NotFound()
        return declaration_submit(actor=actor, person=people[0], data=data)
    now = timezone.now()
    declaration = Declaration(
        submitted_by=actor,
        phone=data.phone,
        address_line=data.address_line,
        commune=data.commune,
        commune_path=data.commune.path,
        answers=data.answers(),
        has_symptoms=False,
        has_exposure=False,
        day=timezone.localdate(now),
        created_at=now,
    )
    given = [
        "uuid", "submitted_by", "phone", "address_line", "commune", "commune_path",
        "answers", "has_symptoms", "has_exposure", "day", "created_at",
    ]  # fmt: skip
    fields = [Declaration._meta.get_field(name) for name in given]
    connection = connections[Declaration.objects.db]
    quote = connection.ops.quote_name
    values = [f.get_db_prep_save(getattr(declaration, f.attname), connection) for f in fields]  # type: ignore[union-attr]
    columns = [quote(f.column) for f in fields]  # type: ignore[union-attr,arg-type]
    # Names come from the models; every value is a parameter.
    table, people_table = quote(Declaration._meta.db_table), quote(Person._meta.db_table)
    into = f"INSERT INTO {table} ({', '.join(columns)}, person_id, full_name, birth_year)"
    select = (
        f"SELECT {', '.join(['%s'] * len(values))}, id, full_name, birth_year FROM {people_table}"  # noqa: S608
    )
    where = "WHERE managed_by_id = %s AND uuid = %s"
    sql = f"{into} {select} {where} RETURNING id, person_id, full_name, birth_year"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, actor.pk, *db_values(Person, "uuid", [key])])
        row = cursor.fetchone()
    if row is None:
        raise NotFound()
    declaration.pk, declaration.person_id, declaration.full_name, declaration.birth_year = row
    declaration._state.adding = False
    declaration.person = Person.from_db(
        Declaration.objects.db,
        ["id", "uuid", "full_name", "birth_year"],
        [row[1], key, row[2], row[3]],
    )
    return declaration


# Personal QR ---------------------------------------------------------------------------


def personal_qr_issue(*, actor: Any, person: Person) -> tuple[str, datetime.datetime]:
    """The rotating token that the person's QR shows now, and when it stops being valid."""
    _household_member(account=actor, person=person)
    token, info = personal_token_issue(person_id=person.pk)
    return token, datetime.datetime.fromtimestamp(info.expires_at, tz=datetime.UTC)


@transaction.atomic
def personal_card_print(*, actor: Any, person: Person) -> tuple[str, datetime.datetime]:
    """A long-lived token for a printed card; printing a new card revokes the previous."""
    _household_member(account=actor, person=person)
    card, created = PersonalCard.objects.select_for_update().get_or_create(
        person=person, defaults={"printed_at": timezone.now()}
    )
    if not created:
        card.version += 1
        card.printed_at = timezone.now()
        card.save(update_fields=["version", "printed_at"])
    token, info = personal_token_issue(
        person_id=person.pk, kind=KIND_CARD, card_version=card.version
    )
    return token, datetime.datetime.fromtimestamp(info.expires_at, tz=datetime.UTC)


def personal_qr_person(text: str) -> Person:
    """The person a scanned personal QR belongs to; refused codes raise QrRefused."""
    info = personal_token_read(text)
    # A plain (prepared) statement: every scan of every checkpoint and sampling team.
    found = model_rows(Person, "id = %s", [info.person_id])
    person = found[0] if found else None
    if person is None:
        logger.warning("personal QR refused: %s", QrUnknown.code)
        raise QrUnknown()
    if info.kind == KIND_CARD:
        current = PersonalCard.objects.filter(person=person).values_list("version", flat=True)
        if current.first() != info.card_version:
            logger.warning("personal QR refused: %s", QrRevoked.code)
            raise QrRevoked()
    return person


@dataclass(frozen=True)
class ScanCard:
    """What checkpoint staff see: nothing more than this."""

    full_name: str
    birth_year: int
    last_declared_on: datetime.date | None
    days_since_declaration: int | None
    status_colour: str
    status_reason: str
    admitted: bool = True


def scan_card_for(person: Person, *, status: StatusColour | None = None) -> ScanCard:
    last_day = (
        Declaration.objects.filter(person=person)
        .order_by("-created_at")
        .values_list("day", flat=True)
        .first()
    )
    status = status or status_for(person)
    today = timezone.localdate()
    return ScanCard(
        full_name=person.full_name,
        birth_year=person.birth_year,
        last_declared_on=last_day,
        days_since_declaration=(today - last_day).days if last_day else None,
        status_colour=status.colour if status else "",
        status_reason=str(status.reason) if status else "",
        admitted=status.admit if status else True,
    )


# Venues --------------------------------------------------------------------------------


def venue_may_manage(*, actor: Any, venue: Venue) -> bool:
    return bool(venue.owner_id is not None and venue.owner_id == getattr(actor, "pk", None)) or (
        _is_officer_for(actor, venue.commune_path)
    )


def venue_may_scan(*, actor: Any, venue: Venue) -> bool:
    if venue_may_manage(actor=actor, venue=venue):
        return True
    user_id = getattr(actor, "pk", None)
    return user_id is not None and VenueStaff.objects.filter(venue=venue, user_id=user_id).exists()


@transaction.atomic
def venue_register(*, actor: Any, data: VenueInput) -> Venue:
    """A venue owner registers their venue, or a commune officer registers it for them."""
    staff = getattr(actor, "kind", "") == User.Kind.STAFF
    if staff and not _is_officer_for(actor, data.commune.path):
        raise InvalidInput(
            details={"fields": {"commune": [_("You can register venues only in your area.")]}}
        )
    for _attempt in range(5):
        try:
            with transaction.atomic():
                venue = Venue.objects.create(
                    name=data.name,
                    kind=data.kind,
                    address_line=data.address_line,
                    commune=data.commune,
                    commune_path=data.commune.path,
                    contact_name=data.contact_name,
                    contact_phone=data.contact_phone,
                    owner=None if staff else actor,
                    created_by=actor,
                )
            break
        except IntegrityError:  # a code collision (1 in 10^11): draw another
            continue
    else:  # pragma: no cover
        raise RuntimeError("could not draw a free venue code")
    if staff:
        audit_record(
            actor=actor, actor_role=_role(actor), action="declarations.venue.registered", obj=venue
        )
    return venue


@transaction.atomic
def venue_staff_add(*, actor: Any, venue: Venue, phone: str) -> VenueStaff:
    """Let an account (found by its phone number) scan people at the venue."""
    if not venue_may_manage(actor=actor, venue=venue):
        raise NotFound()
    try:
        number = phone_normalise(phone)
    except InvalidInput as exc:
        raise InvalidInput(details={"fields": {"phone": [str(exc.message)]}}) from exc
    user = User.objects.filter(phone=number, is_active=True).first()
    if user is None:
        raise AccountUnknown(
            details={
                "fields": {
                    "phone": [
                        _(
                            "No account has this phone number. Ask the person to sign in "
                            "once with it, then add them again."
                        )
                    ]
                }
            }
        )
    member, _created = VenueStaff.objects.get_or_create(
        venue=venue, user=user, defaults={"added_by": actor}
    )
    audit_record(
        actor=actor,
        actor_role=_role(actor),
        action="declarations.venue.staff_added",
        obj=venue,
        details={"user": str(user.uuid)},
    )
    return member


@transaction.atomic
def venue_staff_remove(*, actor: Any, venue: Venue, user_uuid: Any) -> None:
    if not venue_may_manage(actor=actor, venue=venue):
        raise NotFound()
    deleted, _counts = VenueStaff.objects.filter(venue=venue, user__uuid=user_uuid).delete()
    if not deleted:
        raise NotFound()
    audit_record(
        actor=actor,
        actor_role=_role(actor),
        action="declarations.venue.staff_removed",
        obj=venue,
        details={"user": str(user_uuid)},
    )


_venues_by_code: LocalCache[Venue] = LocalCache("declarations.venue_by_code", ttl_seconds=60)


def venues_cache_clear(*args: Any, **kwargs: Any) -> None:
    """A venue changed in this process (other processes see it within a minute)."""
    _venues_by_code.clear()


def venue_by_code(text: str) -> Venue:
    """The active venue whose code was typed or scanned.

    Every check-in starts here, so active venues are cached per process for a minute
    (cleared when a venue is saved here): a venue closed elsewhere takes at most that
    long to stop taking check-ins.
    """
    code = venue_code_read(text)
    venue = _venues_by_code.get_or_load(
        code,
        lambda: Venue.objects.select_related("commune").filter(code=code, is_active=True).first(),
    )
    if venue is None:
        logger.warning("venue code refused: %s", VenueUnknown.code)
        raise VenueUnknown()
    return venue


# Check-ins -----------------------------------------------------------------------------


def _checkin_people(
    *,
    venue: Venue,
    people: list[Person],
    method: str,
    recorded_by: Any,
    now: datetime.datetime,
    locked: bool = False,
) -> list[tuple[CheckIn, bool]]:
    """Check people in, once: a repeated scan within minutes returns the same check-in.

    The people's rows are locked (in key order) so that two simultaneous scans of one
    person cannot both insert; `locked` says the caller already holds those locks.
    """
    ids = sorted({p.pk for p in people})
    if LOCK_PEOPLE_ON_CHECKIN and not locked:
        list(Person.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    since = now - datetime.timedelta(minutes=conf.checkin_repeat_minutes())
    by_id = {p.pk: p for p in people}
    recent: dict[int, CheckIn] = {}
    # The busiest read of the platform: a plain statement, not compiled by the ORM each time.
    for checkin in model_rows(
        CheckIn,
        f"person_id IN ({placeholders(len(ids))}) AND venue_id = %s"
        " AND checked_in_at >= %s AND day >= %s AND checked_out_at IS NULL",
        [
            *ids,
            venue.pk,
            *db_values(CheckIn, "checked_in_at", [since]),
            *db_values(CheckIn, "day", [timezone.localdate(since) - ONE_DAY]),
        ],
        order_by="checked_in_at",
    ):
        checkin.venue = venue
        checkin.person = by_id[checkin.person_id]
        recent[checkin.person_id] = checkin
    new = [
        CheckIn(
            venue=venue,
            person=by_id[pk],
            checked_in_at=now,
            method=method,
            recorded_by=recorded_by if getattr(recorded_by, "pk", None) else None,
            day=timezone.localdate(now),
        )
        for pk in ids
        if pk not in recent
    ]
    if new:
        CheckIn.objects.bulk_create(new)
    created = {c.person_id: c for c in new}
    return [
        (created[pk], True) if pk in created else (recent[pk], False)
        for pk in ids
        if pk in created or pk in recent
    ]


@transaction.atomic
def checkin_record(
    *, actor: Any, venue: Venue, people: Iterable[Person], now: datetime.datetime | None = None
) -> list[tuple[CheckIn, bool]]:
    """The citizen scanned the venue's code for themselves and family members at once."""
    chosen = list(people)
    if not chosen:
        raise NoPeopleChosen(details={"fields": {"people": [str(NoPeopleChosen.default_message)]}})
    for person in chosen:
        _household_member(account=actor, person=person)
    return _checkin_people(
        venue=venue,
        people=chosen,
        method=CheckIn.Method.SELF,
        recorded_by=actor,
        now=now or timezone.now(),
    )


def checkin_record_by_uuid(
    *, actor: Any, venue: Venue, person_uuids: Iterable[Any], now: datetime.datetime | None = None
) -> list[tuple[CheckIn, bool]]:
    """checkin_record for the API, which names the people by UUID (the busiest write of
    the platform). On PostgreSQL the whole transaction is one round trip; elsewhere the
    household members are read and locked in one query, then checked in as usual."""
    try:
        keys = sorted({uuid.UUID(str(u)) for u in person_uuids})
    except ValueError as exc:
        raise NotFound() from exc
    if not keys:
        raise NoPeopleChosen(details={"fields": {"people": [str(NoPeopleChosen.default_message)]}})
    now = now or timezone.now()
    if connections[CheckIn.objects.db].vendor == "postgresql":
        return _checkin_people_postgresql(actor=actor, venue=venue, keys=keys, now=now)
    with transaction.atomic():
        people = model_rows(
            Person,
            f"managed_by_id = %s AND uuid IN ({placeholders(len(keys))})",
            [getattr(actor, "pk", None), *db_values(Person, "uuid", keys)],
            order_by="id",
            for_update=LOCK_PEOPLE_ON_CHECKIN,
        )
        if len(people) != len(keys):
            raise NotFound()
        return _checkin_people(
            venue=venue,
            people=people,
            method=CheckIn.Method.SELF,
            recorded_by=actor,
            now=now,
            locked=True,
        )


# The same rules as _checkin_people, sent to PostgreSQL as one message: lock the household
# members named (in key order), then — in a new statement, so that it sees check-ins that
# a concurrent request committed while this one waited for the lock — insert a check-in for
# each person without one at this venue in the last minutes, and return the new and the
# existing ones. Nothing is inserted unless every person named belongs to the account.
_CHECKIN_LOCK_SQL = """
SELECT id FROM people_person
WHERE managed_by_id = %(account)s AND uuid = ANY(%(keys)s) ORDER BY id FOR UPDATE"""
_CHECKIN_SQL = """
WITH people AS (
    SELECT id, uuid, full_name FROM people_person
    WHERE managed_by_id = %(account)s AND uuid = ANY(%(keys)s)
), complete AS (
    SELECT count(*) = %(count)s AS ok FROM people
), recent AS (
    SELECT DISTINCT ON (c.person_id) c.id, c.uuid, c.person_id, c.checked_in_at,
        c.checked_out_at, c.method, c.recorded_by_id, c.day
    FROM declarations_checkin c
    WHERE c.person_id IN (SELECT id FROM people) AND c.venue_id = %(venue)s
        AND c.checked_in_at >= %(since)s AND c.day >= %(since_day)s AND c.checked_out_at IS NULL
    ORDER BY c.person_id, c.checked_in_at DESC, c.id DESC
), added AS (
    INSERT INTO declarations_checkin
        (uuid, venue_id, person_id, checked_in_at, checked_out_at, method, recorded_by_id, day)
    SELECT gen_random_uuid(), %(venue)s, p.id, %(now)s, NULL, %(method)s, %(account)s, %(day)s
    FROM people p
    WHERE (SELECT ok FROM complete) AND p.id NOT IN (SELECT person_id FROM recent)
    ORDER BY p.id
    RETURNING id, uuid, person_id, checked_in_at, checked_out_at, method, recorded_by_id, day
)
SELECT true, a.*, p.uuid, p.full_name FROM added a JOIN people p ON p.id = a.person_id
UNION ALL
SELECT false, r.*, p.uuid, p.full_name FROM recent r JOIN people p ON p.id = r.person_id
WHERE (SELECT ok FROM complete)"""
_CHECKIN_FIELDS = [
    "id", "uuid", "person_id", "checked_in_at", "checked_out_at", "method", "recorded_by_id", "day",
]  # fmt: skip


def _checkin_people_postgresql(
    *, actor: Any, venue: Venue, keys: list[uuid.UUID], now: datetime.datetime
) -> list[tuple[CheckIn, bool]]:
    using = CheckIn.objects.db
    connection = connections[using]
    statements = [_CHECKIN_LOCK_SQL] if LOCK_PEOPLE_ON_CHECKIN else []
    statements.append(_CHECKIN_SQL)
    own_transaction = not connection.in_atomic_block
    if own_transaction:  # BEGIN and COMMIT travel in the same message
        statements = ["BEGIN", *statements, "COMMIT"]
    params = {
        "account": actor.pk,
        "keys": keys,
        "count": len(keys),
        "venue": venue.pk,
        "since": now - datetime.timedelta(minutes=conf.checkin_repeat_minutes()),
        # The day bound lets PostgreSQL skip every day partition but today's and
        # yesterday's: without it each check-in probed every day kept (a day of margin: the
        # row's day is a local date).
        "since_day": timezone.localdate(
            now - datetime.timedelta(minutes=conf.checkin_repeat_minutes())
        )
        - ONE_DAY,
        "now": now,
        "method": CheckIn.Method.SELF.value,
        "day": timezone.localdate(now),
    }
    rows: list[tuple[Any, ...]] = []
    with connection.wrap_database_errors, message_cursor(connection) as cursor:
        try:
            cursor.execute(";\n".join(statements), params)
            while True:
                description = cursor.description
                if description is not None and len(description) == len(_CHECKIN_FIELDS) + 3:
                    rows = cursor.fetchall()
                if not cursor.nextset():
                    break
        except BaseException:
            if own_transaction:
                cursor.execute("ROLLBACK")
            raise
    if not rows:
        raise NotFound()
    results = []
    for row in sorted(rows, key=lambda r: r[3]):
        created, values, (person_uuid, full_name) = row[0], row[1:-2], row[-2:]
        checkin = CheckIn.from_db(using, _CHECKIN_FIELDS, values)
        checkin.venue = venue
        checkin.person = Person.from_db(
            using, ["id", "uuid", "full_name"], [checkin.person_id, person_uuid, full_name]
        )
        results.append((checkin, bool(created)))
    return results


@dataclass(frozen=True)
class ScanOutcome:
    card: ScanCard
    checkin: CheckIn | None  # None: the status rules refused entry
    created: bool


@transaction.atomic
def checkin_scan(
    *, actor: Any, venue: Venue, token: str, now: datetime.datetime | None = None
) -> ScanOutcome:
    """Venue staff scanned a person's QR code at the entrance: check the person in and
    show the checkpoint card. The read of the person is audited. A person whom the status
    rules refuse (a health measure made them red) is shown, not checked in."""
    if not venue_may_scan(actor=actor, venue=venue):
        raise NotFound()
    person = personal_qr_person(token)
    status = status_for(person)
    checkin: CheckIn | None = None
    created = False
    if status is None or status.admit:
        [(checkin, created)] = _checkin_people(
            venue=venue,
            people=[person],
            method=CheckIn.Method.STAFF,
            recorded_by=actor,
            now=now or timezone.now(),
        )
    details = {"venue": str(venue.uuid)}
    details.update({"checkin": str(checkin.uuid)} if checkin else {"refused": "status_rules"})
    audit_record(
        actor=actor,
        actor_role=_role(actor),
        action="declarations.person.scanned",
        obj=person,
        details=details,
    )
    return ScanOutcome(card=scan_card_for(person, status=status), checkin=checkin, created=created)


@transaction.atomic
def checkin_checkout(
    *, actor: Any, checkin: CheckIn, now: datetime.datetime | None = None
) -> CheckIn:
    """The citizen leaves the venue (optional); a second check-out changes nothing."""
    checkin = (
        CheckIn.objects.select_for_update().select_related("person", "venue").get(pk=checkin.pk)
    )
    _household_member(account=actor, person=checkin.person)
    if checkin.checked_out_at is None:
        checkin.checked_out_at = max(now or timezone.now(), checkin.checked_in_at)
        checkin.save(update_fields=["checked_out_at"])
    return checkin


# Follow-up -----------------------------------------------------------------------------


@transaction.atomic
def followup_call_record(
    *, actor: Any, followup: FollowUp, outcome: str, note: str = ""
) -> FollowUpCall:
    """The health station called the person: record what came of it.

    Any outcome but "could not be reached" closes the item.
    """
    followup = FollowUp.objects.select_for_update().select_related("person").get(pk=followup.pk)
    if not _is_officer_for(actor, followup.commune_path):
        raise NotFound()
    errors: dict[str, list[str]] = {}
    if outcome not in FollowUp.Outcome.values:
        errors["outcome"] = [_("Choose the outcome of the call.")]
    if len(note) > 2000:
        errors["note"] = [_("The note is too long.")]
    if errors:
        raise InvalidInput(details={"fields": errors})
    call = FollowUpCall.objects.create(
        followup=followup, called_by=actor, outcome=outcome, note=note.strip()
    )
    followup.calls += 1
    followup.last_called_at = call.created_at
    if outcome != FollowUp.Outcome.NOT_REACHED:
        followup.outcome = outcome
        followup.status = FollowUp.Status.CLOSED
    followup.save(update_fields=["calls", "last_called_at", "outcome", "status", "updated_at"])
    audit_record(
        actor=actor,
        actor_role=_role(actor),
        action="declarations.followup.call_recorded",
        obj=followup,
        person_uuid=followup.person.uuid,
        details={"outcome": outcome},
    )
    return call


# Confirmed cases and exposure tracing ---------------------------------------------------


def _onset_clean(onset_date: Any) -> datetime.date:
    today = timezone.localdate()
    if not isinstance(onset_date, datetime.date):
        raise InvalidInput(details={"fields": {"onset_date": [_("Enter the onset date.")]}})
    if onset_date > today:
        raise InvalidInput(
            details={"fields": {"onset_date": [_("The onset date cannot be in the future.")]}}
        )
    if onset_date < today - datetime.timedelta(days=60):
        raise InvalidInput(
            details={"fields": {"onset_date": [_("The onset date is more than 60 days ago.")]}}
        )
    return onset_date


def _window_clean(window_minutes: int | None) -> int:
    window = conf.exposure_window_minutes() if window_minutes is None else window_minutes
    if not 0 <= window <= 24 * 60:
        raise InvalidInput(
            details={"fields": {"window_minutes": [_("Enter a window of 0 to 1440 minutes.")]}}
        )
    return window


@transaction.atomic
def case_propose(
    *,
    actor: Any,
    person: Person,
    onset_date: datetime.date,
    window_minutes: int | None = None,
) -> Case:
    """An officer proposes that a person in their area is a confirmed case (F0).

    Nothing is traced until a second officer approves.
    """
    if not _is_officer_for(actor, person.commune_path):
        raise NotFound()
    onset = _onset_clean(onset_date)
    window = _window_clean(window_minutes)
    if Case.objects.filter(person=person, status=Case.Status.PENDING).exists():
        raise CaseAlreadyOpen()
    try:
        with transaction.atomic():
            case = Case.objects.create(
                person=person,
                commune_path=person.commune_path,
                onset_date=onset,
                window_minutes=window,
                source=Case.Source.OFFICER,
                proposed_by=actor,
            )
    except IntegrityError as exc:
        raise CaseAlreadyOpen() from exc
    audit_record(
        actor=actor,
        actor_role=_role(actor),
        action="declarations.case.proposed",
        obj=case,
        person_uuid=person.uuid,
    )
    return case


def case_candidate_from_positive(
    *, person: Person, onset: datetime.date | None, source_reference: str = ""
) -> Case | None:
    """A positive test result proposes a case; one officer's approval confirms it (the
    laboratory's release is the first signature). Repeated results propose nothing twice."""
    today = timezone.localdate()
    onset = min(onset or today, today)
    onset = max(onset, today - datetime.timedelta(days=60))
    with transaction.atomic():
        if Case.objects.filter(
            Q(status=Case.Status.PENDING) | Q(status=Case.Status.CONFIRMED, onset_date=onset),
            person=person,
        ).exists():
            return None
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    person=person,
                    commune_path=person.commune_path,
                    onset_date=onset,
                    window_minutes=conf.exposure_window_minutes(),
                    source=Case.Source.TESTING,
                    source_reference=source_reference[:64],
                )
        except IntegrityError:
            return None
        audit_record(
            actor=None,
            actor_role="system",
            action="declarations.case.proposed",
            obj=case,
            person_uuid=person.uuid,
            details={"source": "testing"},
        )
    return case


def _case_locked(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("person").get(pk=case.pk)


@transaction.atomic
def case_approve(*, actor: Any, case: Case) -> Case:
    """A second officer confirms the case; exposure tracing then runs."""
    case = _case_locked(case)
    if not _is_officer_for(actor, case.commune_path):
        raise NotFound()
    if case.status != Case.Status.PENDING:
        raise CaseNotPending()
    if case.proposed_by_id is not None and case.proposed_by_id == actor.pk:
        raise SecondOfficerRequired()
    case.status = Case.Status.CONFIRMED
    case.decided_by = actor
    case.decided_at = timezone.now()
    try:
        with transaction.atomic():
            case.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    except IntegrityError as exc:
        # The same person and onset were already confirmed.
        raise CaseNotPending() from exc
    audit_record(
        actor=actor,
        actor_role=_role(actor),
        action="declarations.case.approved",
        obj=case,
        person_uuid=case.person.uuid,
    )
    # In this transaction: the case report queued for the national systems commits with it.
    case_confirmed.send(sender=Case, case=case, person=case.person)
    exposure_trace(case=case)
    return case


@transaction.atomic
def case_reject(*, actor: Any, case: Case) -> Case:
    case = _case_locked(case)
    if not _is_officer_for(actor, case.commune_path):
        raise NotFound()
    if case.status != Case.Status.PENDING:
        raise CaseNotPending()
    if case.proposed_by_id is not None and case.proposed_by_id == actor.pk:
        raise SecondOfficerRequired()
    case.status = Case.Status.REJECTED
    case.decided_by = actor
    case.decided_at = timezone.now()
    case.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_record(
        actor=actor,
        actor_role=_role(actor),
        action="declarations.case.rejected",
        obj=case,
        person_uuid=case.person.uuid,
    )
    return case


@dataclass(frozen=True)
class Overlap:
    person_id: int
    venue_id: int
    first_at: datetime.datetime


def exposure_overlaps_find(*, case: Case, now: datetime.datetime | None = None) -> list[Overlap]:
    """Everyone checked in at a venue the case visited, within the case's window around
    each visit, from the start of the infectious period (days before onset).

    One query per side: the case's visits by (person, time), then every visit's window as
    a range on the (venue, checked_in_at) index.
    """
    now = now or timezone.now()
    start_day = case.onset_date - datetime.timedelta(days=conf.infectious_days_before_onset())
    start = timezone.make_aware(datetime.datetime.combine(start_day, datetime.time.min))
    window = datetime.timedelta(minutes=case.window_minutes)
    stay = datetime.timedelta(minutes=conf.default_stay_minutes())
    visits = list(
        CheckIn.objects.filter(
            person_id=case.person_id,
            checked_in_at__gte=start,
            checked_in_at__lte=now,
            day__gte=start_day - ONE_DAY,  # the day partitions from the start only
        ).values_list("venue_id", "checked_in_at", "checked_out_at")
    )
    if not visits:
        return []
    # The ranges go to the database in groups: one statement with thousands of OR'd
    # ranges (a person with implausibly many visits) takes PostgreSQL minutes to plan.
    found: list[tuple[datetime.datetime, int, int]] = []
    for first in range(0, len(visits), TRACE_RANGES_PER_QUERY):
        ranges = Q()
        for venue_id, checked_in_at, checked_out_at in visits[
            first : first + TRACE_RANGES_PER_QUERY
        ]:
            end = checked_out_at or checked_in_at + stay
            ranges |= Q(
                venue_id=venue_id,
                checked_in_at__gte=checked_in_at - window,
                checked_in_at__lte=end + window,
                day__gte=timezone.localdate(checked_in_at - window) - ONE_DAY,
                day__lte=timezone.localdate(end + window) + ONE_DAY,
            )
        found += (
            (row["first_at"], row["person_id"], row["venue_id"])
            for row in CheckIn.objects.filter(ranges)
            .exclude(person_id=case.person_id)
            .values("person_id", "venue_id")
            .annotate(first_at=Min("checked_in_at"))
        )
    seen: dict[int, Overlap] = {}
    for first_at, person_id, venue_id in sorted(found):
        seen.setdefault(person_id, Overlap(person_id, venue_id, first_at))
    return list(seen.values())


def exposure_trace(*, case: Case) -> int:
    """Store the case's F1 candidates (again later: new ones are added, none twice)."""
    if case.status != Case.Status.CONFIRMED:
        raise CaseNotConfirmed()
    overlaps = exposure_overlaps_find(case=case)
    paths = dict(
        Person.objects.filter(pk__in=[o.person_id for o in overlaps]).values_list(
            "pk", "commune_path"
        )
    )
    before = ExposureCandidate.objects.filter(case=case).count()
    ExposureCandidate.objects.bulk_create(
        [
            ExposureCandidate(
                case=case,
                person_id=o.person_id,
                commune_path=paths.get(o.person_id, ""),
                venue_id=o.venue_id,
                first_overlap_at=o.first_at,
            )
            for o in overlaps
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    Case.objects.filter(pk=case.pk).update(traced_at=timezone.now())
    return ExposureCandidate.objects.filter(case=case).count() - before


@transaction.atomic
def exposure_trace_again(*, actor: Any, case: Case) -> int:
    case = _case_locked(case)
    if not _is_officer_for(actor, case.commune_path):
        raise NotFound()
    added = exposure_trace(case=case)
    audit_record(
        actor=actor,
        actor_role=_role(actor),
        action="declarations.case.traced",
        obj=case,
        person_uuid=case.person.uuid,
        details={"added": added},
    )
    return added


def _f1_message(candidate: ExposureCandidate) -> tuple[str, str]:
    from django.conf import settings

    local = timezone.localtime(candidate.first_overlap_at)
    subject = _("Possible COVID-19 exposure")
    body = _(
        "%(name)s was at %(venue)s around %(time)s on %(date)s, at the same time as a "
        "confirmed COVID-19 case. Please wear a mask, avoid contact with others, watch "
        "your health for 14 days and call your commune health station or the support line "
        "%(phone)s. If you have fever, cough or shortness of breath, call the health "
        "station at once."
    ) % {
        "name": candidate.person.full_name,
        "venue": candidate.venue.name,
        "time": local.strftime("%H:%M"),
        "date": date_text(local),
        "phone": settings.SUPPORT_PHONE,
    }
    return subject, body


@transaction.atomic
def exposure_notify(*, actor: Any, case: Case, candidate_uuids: list[Any] | None = None) -> int:
    """Send guidance to the F1 candidates in the officer's area, in each one's language.

    A candidate is notified once; repeating the action sends nothing twice.
    """
    from covidhub.declarations.selectors import candidate_queryset_for_actor
    from covidhub.notifications.services import message_queue

    case = _case_locked(case)
    if case.status != Case.Status.CONFIRMED:
        raise CaseNotConfirmed()
    candidates = (
        candidate_queryset_for_actor(actor=actor, case=case)
        .select_for_update(of=("self",))
        .select_related("person__managed_by", "venue")
        .filter(status=ExposureCandidate.Status.CANDIDATE)
    )
    if candidate_uuids is not None:
        candidates = candidates.filter(uuid__in=candidate_uuids)
    chosen = list(candidates)
    now = timezone.now()
    for candidate in chosen:
        account = candidate.person.managed_by
        with notice_language(candidate.person) as language:
            subject, body = _f1_message(candidate)
        key = f"declarations.f1.{case.uuid}.{candidate.person.uuid}"
        if account is not None:
            message_queue(
                channel="inapp",
                user=account,
                subject=subject,
                body=body,
                language=language,
                dedupe_key=f"{key}.inapp",
            )
        phone = candidate.person.phone or getattr(account, "phone", "") or ""
        if phone:
            message_queue(
                channel="sms",
                to=phone,
                user=account,
                body=body,
                language=language,
                dedupe_key=f"{key}.sms",
            )
        candidate.status = ExposureCandidate.Status.NOTIFIED
        candidate.notified_by = actor
        candidate.notified_at = now
    ExposureCandidate.objects.bulk_update(chosen, ["status", "notified_by", "notified_at"])
    audit_record_many(
        actor=actor,
        actor_role=_role(actor),
        action="declarations.exposure.notified",
        objects=list(chosen),
    )
    return len(chosen)


@transaction.atomic
def exposure_candidate_dismiss(*, actor: Any, candidate: ExposureCandidate) -> None:
    from covidhub.declarations.selectors import candidate_queryset_for_actor

    locked = (
        candidate_queryset_for_actor(actor=actor, case=candidate.case)
        .select_for_update(of=("self",))
        .select_related("person")
        .filter(pk=candidate.pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    if locked.status == ExposureCandidate.Status.CANDIDATE:
        locked.status = ExposureCandidate.Status.DISMISSED
        locked.save(update_fields=["status"])
        audit_record(
            actor=actor,
            actor_role=_role(actor),
            action="declarations.exposure.dismissed",
            obj=locked,
            person_uuid=locked.person.uuid,
        )


# Retention and daily counts -------------------------------------------------------------

METRIC_DECLARATIONS = "declarations"
METRIC_CHECKINS = "checkins"


def _live_counts(metric: str, days: list[datetime.date]) -> dict[tuple[datetime.date, int], int]:
    if metric == METRIC_DECLARATIONS:
        return {
            (day, commune_id): n
            for day, commune_id, n in Declaration.objects.filter(day__in=days)
            .values_list("day", "commune_id")
            .annotate(n=Count("id"))
        }
    return {
        (day, commune_id): n
        for day, commune_id, n in CheckIn.objects.filter(day__in=days)
        .values_list("day", "venue__commune_id")
        .annotate(n=Count("id"))
    }


def retention_run(*, days: int | None = None, today: datetime.date | None = None) -> dict[str, int]:
    """Remove check-ins and declarations older than the retention period, one day at a
    time: each day's counts are kept (DailyTally) in the same transaction.

    On PostgreSQL the tables are partitioned by day (covidhub.core.partitions): a day's
    partition is dropped whole; rows without a partition of their own (SQLite, or a day
    that landed in the DEFAULT partition) are deleted. The period is the one setting
    `conf.retention_days`."""
    keep = conf.retention_days() if days is None else days
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=keep)
    deleted = {METRIC_DECLARATIONS: 0, METRIC_CHECKINS: 0}
    sources = {
        METRIC_DECLARATIONS: Declaration.objects,
        METRIC_CHECKINS: CheckIn.objects,
    }
    for metric, manager in sources.items():
        old_days = sorted(
            set(manager.filter(day__lt=cutoff).values_list("day", flat=True).distinct())
        )
        for day in old_days:
            with transaction.atomic():
                counts = _live_counts(metric, [day])
                tallied = TalliedDay.objects.filter(day=day, metric=metric).exists()
                for (_day, commune_id), value in counts.items():
                    # A day tallied before (late rows) adds to its tally.
                    tally, created = DailyTally.objects.select_for_update().get_or_create(
                        day=day, commune_id=commune_id, metric=metric, defaults={"value": value}
                    )
                    if not created:
                        tally.value = tally.value + value if tallied else value
                        tally.save(update_fields=["value"])
                TalliedDay.objects.get_or_create(day=day, metric=metric)
                deleted[metric] += _day_remove(manager.model, day, rows=sum(counts.values()))
        # Partitions of old days that held no row (made ahead, never used) go as well.
        with transaction.atomic():
            partitions_drop_before(manager.model._meta.db_table, before=cutoff)
    if any(deleted.values()):
        logger.info(
            "retention: removed %s declarations and %s check-ins older than %s",
            deleted[METRIC_DECLARATIONS],
            deleted[METRIC_CHECKINS],
            cutoff.isoformat(),
        )
    return deleted


def _day_remove(model: type[models.Model], day: datetime.date, *, rows: int) -> int:
    """Remove one day's rows of `model` (inside retention's transaction); return how many.

    Dropping a partition skips the ORM, so what the ORM's delete would do to related rows
    is done first: a follow-up outlives its declaration (SET_NULL)."""
    if model is Declaration:
        FollowUp.objects.filter(declaration__day=day).update(declaration=None)
    dropped = partitions_drop_before(model._meta.db_table, before=day + datetime.timedelta(days=1))
    if any(p.start is not None and p.start <= day for p in dropped):
        # PostgreSQL routes each row to one partition: the day's rows were all in it.
        return rows
    _total, per_model = model._default_manager.filter(day=day).delete()
    return sum(v for k, v in per_model.items() if k.endswith((".Declaration", ".CheckIn")))


def _daily_counts(metric: str, since: datetime.date, until: datetime.date) -> list[Any]:
    from covidhub.core.metrics import DailyCount

    tallied_days = set(
        TalliedDay.objects.filter(metric=metric, day__range=(since, until)).values_list(
            "day", flat=True
        )
    )
    result: dict[tuple[datetime.date, int | None], int] = {}
    for tally in DailyTally.objects.filter(metric=metric, day__range=(since, until)):
        result[(tally.day, tally.commune_id)] = tally.value
    live_days = [
        since + datetime.timedelta(days=i)
        for i in range((until - since).days + 1)
        if since + datetime.timedelta(days=i) not in tallied_days
    ]
    if live_days:
        for key, value in _live_counts(metric, live_days).items():
            result[key] = result.get(key, 0) + value
    return [
        DailyCount(day=day, commune_id=commune_id, metric=metric, value=value)
        for (day, commune_id), value in sorted(
            result.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)
        )
    ]


def declarations_daily_counts(since: datetime.date, until: datetime.date) -> list[Any]:
    return _daily_counts(METRIC_DECLARATIONS, since, until)


def checkins_daily_counts(since: datetime.date, until: datetime.date) -> list[Any]:
    return _daily_counts(METRIC_CHECKINS, since, until)
