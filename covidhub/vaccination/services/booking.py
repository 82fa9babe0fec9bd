"""Booking: self-booking, invitations in priority order, confirmation, cancellation and
the waiting list. A session is never overbooked: its row is locked while a place is
taken or given back (locks in one order: session, then booking), and a check constraint
keeps `booked_count ≤ capacity`; a partial unique index keeps one active booking per
person and dose."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.accounts.models import User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, area_path_q
from covidhub.core.dates import date_text
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.notifications.language import notice_language, person_language
from covidhub.notifications.services import message_queue
from covidhub.people.models import Person
from covidhub.vaccination import rules
from covidhub.vaccination.errors import (
    AlreadyBooked,
    DoseRefused,
    NotRegistered,
    SessionClosed,
    SessionFull,
)
from covidhub.vaccination.fastreads import dose_history
from covidhub.vaccination.models import (
    ACTIVE_BOOKING_STATES,
    Booking,
    Campaign,
    Registration,
    Session,
)
from covidhub.vaccination.scoping import site_q
from covidhub.vaccination.services.common import audit
from covidhub.vaccination.services.statements import (
    audit_event,
    booking_store_with_place,
    single_statement_supported,
)

# The concurrency tests' control run turns this off to prove that they catch overbooking.
LOCK_SESSIONS = True
MAX_INVITATIONS = 1_000


def person_dose_facts(person: Person) -> list[rules.DoseFact]:
    return [fact for _sequence, fact in person_dose_history(person)]


def person_dose_history(person: Person) -> list[tuple[int, rules.DoseFact]]:
    """The person's valid doses in order, each with its overall sequence number."""
    return dose_history(person.pk)


def _place_take_if_free(session: Session) -> bool:
    """Take a place if one is left: one conditional UPDATE, whose row lock (FOR NO KEY
    UPDATE: bookings being inserted, whose foreign key takes KEY SHARE on the row, are not
    blocked) is held until the commit; a concurrent taker waits for it and then re-checks
    the condition against the committed count, so the session is never overbooked."""
    if LOCK_SESSIONS:
        # Hand-written (portable) SQL: the busiest statement of a booking day, without the
        # ORM's compilation.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {connection.ops.quote_name(Session._meta.db_table)} "  # noqa: S608 - a table name from model metadata
                "SET booked_count = booked_count + 1 WHERE id = %s AND booked_count < capacity",
                [session.pk],
            )
            taken = cursor.rowcount
    else:
        # Without the lock: a read-modify-write that loses concurrent updates (control run).
        current = Session.objects.get(pk=session.pk)
        taken = 0
        if current.booked_count < current.capacity:
            taken = Session.objects.filter(pk=session.pk).update(
                booked_count=current.booked_count + 1
            )
    if taken:
        session.booked_count += 1
    return bool(taken)


def _session_for_update(session_pk: int) -> Session:
    # FOR NO KEY UPDATE: bookings being inserted (their foreign key takes KEY SHARE on this
    # row) are not blocked by it, only other place-takers are.
    return Session.objects.select_for_update(no_key=True).get(pk=session_pk)


def _take_place(session: Session) -> None:
    """Take a place in a session whose row the caller has locked (and found not full)."""
    Session.objects.filter(pk=session.pk).update(booked_count=F("booked_count") + 1)
    session.booked_count += 1


def _give_place(session: Session) -> None:
    Session.objects.filter(pk=session.pk, booked_count__gt=0).update(
        booked_count=F("booked_count") - 1
    )
    session.booked_count -= 1


def _bookable(session: Session) -> None:
    campaign = session.campaign
    if (
        session.cancelled
        or campaign.status != Campaign.Status.OPEN
        or session.date < timezone.localdate()
    ):
        raise SessionClosed()


def _eligible(person: Person, session: Session) -> rules.NextDose:
    """The dose the person would have in this session, or the reason they cannot."""
    try:
        # No query when the caller loaded the registration with the person.
        registration = person.vaccination_registration
    except Registration.DoesNotExist as exc:
        raise NotRegistered() from exc
    groups = session.campaign.priority_groups
    if groups and registration.priority_group not in groups:
        raise SessionClosed(_("This campaign is for other priority groups than this person's."))
    return rules.dose_check(
        doses=person_dose_facts(person),
        vaccine=session.campaign.vaccine,
        day=session.date,
        age=person.age_on(session.date),
    )


def _notify(person: Person, *, key: str, text: str, subject: str, link: str = "") -> None:
    """An in-app message to the managing account and an SMS to the person's phone."""
    account = person.managed_by
    language = person_language(person)
    if account is not None:
        message_queue(
            channel="inapp",
            user=account,
            subject=subject,
            body=text,
            language=language,
            link=link,
            dedupe_key=f"{key}:inapp",
        )
    phone = person.phone or (account.phone if account is not None else "")
    if phone:
        message_queue(
            channel="sms", to=phone, body=text, language=language, dedupe_key=f"{key}:sms"
        )


def _session_text(session: Session) -> dict[str, str]:
    return {
        "site": session.site.name,
        "date": date_text(session.date),
        "start": session.starts_at.strftime("%H:%M"),
        "end": session.ends_at.strftime("%H:%M"),
    }


def booking_create(
    *, actor: User, person: Person, session: Session, waitlist: bool = False
) -> Booking:
    """Book a place for a person (a citizen for their household, an officer for their area).

    A full session raises SessionFull, or puts the person on its waiting list when asked.
    """
    if actor.kind == User.Kind.CITIZEN:
        if person.managed_by_id != actor.pk:
            raise NotFound()
        if not session.self_booking:
            raise SessionClosed(_("Places in this session are given by invitation."))
    else:
        scope = actor_scope(actor)
        if not (
            scope.has_role(*OFFICER_ROLES)
            and scope.covers_path(person.commune_path)
            and Session.objects.filter(site_q(actor, prefix="site__"), pk=session.pk).exists()
        ):
            raise NotFound()
    _bookable(session)
    if not waitlist and session.booked_count >= session.capacity:
        # Fast answer from the row just read; a stale "full" only makes someone retry.
        raise SessionFull()
    nxt = _eligible(person, session)
    booking = Booking(
        session=session,
        person=person,
        dose_number=nxt.sequence,
        status=Booking.Status.CONFIRMED,
        booked_by=actor,
        confirmed_at=timezone.now(),
    )
    if not waitlist and LOCK_SESSIONS and single_statement_supported():
        event = audit_event(actor, "vaccination.booking.created", booking, person_uuid=person.uuid)
        try:
            stored = booking_store_with_place(booking=booking, event=event)
        except IntegrityError as exc:
            raise AlreadyBooked() from exc
        if not stored:
            # Full: unless the person already holds a booking for this dose, which the
            # ORM path's insert would have said first.
            if Booking.objects.filter(
                person=person, dose_number=nxt.sequence, status__in=ACTIVE_BOOKING_STATES
            ).exists():
                raise AlreadyBooked()
            raise SessionFull()
        session.booked_count += 1
        return booking
    with transaction.atomic():
        # The booking row first: its unique index refuses a second active booking for the
        # dose (its first statement: the failure undoes nothing else).
        try:
            booking.save()
        except IntegrityError as exc:
            raise AlreadyBooked() from exc
        if not waitlist:
            audit(actor, "vaccination.booking.created", booking, person_uuid=person.uuid)
            # The session row last: its lock is then held only until the commit.
            if not _place_take_if_free(session):
                raise SessionFull()
            return booking
        if not _place_take_if_free(session):
            # Full: lock the row so that a place given back meanwhile is either taken
            # here or, once this booking is committed, offered to it by the waiting list.
            locked = _session_for_update(session.pk)
            if locked.booked_count < locked.capacity:
                _take_place(locked)
            else:
                booking.status = Booking.Status.WAITLISTED
                booking.confirmed_at = None
                booking.save(update_fields=["status", "confirmed_at", "updated_at"])
        audit(
            actor,
            "vaccination.booking.waitlisted"
            if booking.status == Booking.Status.WAITLISTED
            else "vaccination.booking.created",
            booking,
            person_uuid=person.uuid,
        )
    return booking


def _waitlist_fill(session: Session) -> list[Booking]:
    """Give freed places to the waiting list in the order people joined it (session locked)."""
    promoted = []
    while session.booked_count < session.capacity:
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("person__managed_by")
            .filter(session=session, status=Booking.Status.WAITLISTED)
            .order_by("created_at", "id")
            .first()
        )
        if booking is None:
            break
        booking.status = Booking.Status.CONFIRMED
        booking.confirmed_at = timezone.now()
        booking.save(update_fields=["status", "confirmed_at", "updated_at"])
        _take_place(session)
        person = booking.person
        with notice_language(person):
            text = _(
                "A place is now yours: COVID-19 vaccination at %(site)s on %(date)s, "
                "%(start)s–%(end)s."
            ) % _session_text(session)
            _notify(
                person,
                key=f"vaccination:waitlist:{booking.uuid}",
                text=text,
                subject=_("Vaccination booking confirmed"),
                link=reverse("vaccination:my_vaccinations"),
            )
        audit(None, "vaccination.booking.promoted", booking)
        promoted.append(booking)
    return promoted


def booking_cancel(*, actor: User, booking: Booking) -> Booking:
    """Cancel a booking (its holder or staff of the site); the waiting list fills the place."""
    with transaction.atomic():
        session = Session.objects.select_for_update(no_key=True).get(pk=booking.session_id)
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status not in (
            Booking.Status.INVITED,
            Booking.Status.CONFIRMED,
            Booking.Status.WAITLISTED,
        ):
            raise InvalidInput(
                _("This booking can no longer be cancelled."), code="not_cancellable"
            )
        held = locked.status != Booking.Status.WAITLISTED
        locked.status = Booking.Status.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_at", "updated_at"])
        if held:
            _give_place(session)
            _waitlist_fill(session)
        audit(actor, "vaccination.booking.cancelled", locked, person_uuid=booking.person.uuid)
    return locked


def invitation_respond(*, account: User, booking: Booking, accept: bool) -> Booking:
    """The invitee confirms or declines; a declined place goes to the waiting list."""
    if booking.person.managed_by_id != account.pk:
        raise NotFound()
    with transaction.atomic():
        session = Session.objects.select_for_update(no_key=True).get(pk=booking.session_id)
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != Booking.Status.INVITED:
            if accept and locked.status == Booking.Status.CONFIRMED:
                return locked  # a repeated confirmation
            raise InvalidInput(
                _("This invitation has already been answered."), code="already_answered"
            )
        if accept:
            locked.status = Booking.Status.CONFIRMED
            locked.confirmed_at = timezone.now()
            locked.save(update_fields=["status", "confirmed_at", "updated_at"])
        else:
            locked.status = Booking.Status.DECLINED
            locked.cancelled_at = timezone.now()
            locked.save(update_fields=["status", "cancelled_at", "updated_at"])
            _give_place(session)
            _waitlist_fill(session)
        audit(
            account,
            "vaccination.invitation.accepted" if accept else "vaccination.invitation.declined",
            locked,
            person_uuid=booking.person.uuid,
        )
    return locked


def invitations_send(*, actor: User, session: Session, count: int) -> list[Booking]:
    """Invite registrants of the campaign's area and groups, in priority order, to a session.

    Each invitation holds a place until it is declined or cancelled.
    """
    scope = actor_scope(actor)
    if not (
        scope.has_role(*OFFICER_ROLES)
        and Session.objects.filter(
            site_q(actor, prefix="site__", roles=OFFICER_ROLES), pk=session.pk
        ).exists()
    ):
        raise NotFound()
    if not 1 <= count <= MAX_INVITATIONS:
        raise InvalidInput(
            details={
                "fields": {
                    "count": [
                        _("Invite between 1 and %(max)s people at a time.")
                        % {"max": MAX_INVITATIONS}
                    ]
                }
            }
        )
    _bookable(session)
    campaign = session.campaign
    invited: list[Booking] = []
    with transaction.atomic():
        locked = Session.objects.select_for_update(no_key=True).get(pk=session.pk)
        places = min(count, locked.capacity - locked.booked_count)
        if places <= 0:
            raise SessionFull()
        candidates = (
            Registration.objects.filter(
                commune_path__startswith=campaign.area_path,
                person__commune_path__startswith=campaign.area_path,
            )
            .exclude(person__vaccination_bookings__status__in=ACTIVE_BOOKING_STATES)
            # Who declined or cancelled a place in this session is not asked again.
            .exclude(person__vaccination_bookings__session=locked)
            .select_related("person__managed_by")
            .order_by("priority_rank", "created_at", "id")
        )
        if campaign.priority_groups:
            candidates = candidates.filter(priority_group__in=campaign.priority_groups)
        candidates = candidates.filter(area_path_q(scope, "commune_path"))
        now = timezone.now()
        offset = 0
        batch = max(places * 2, 50)
        while len(invited) < places:
            chunk = list(candidates[offset : offset + batch])
            if not chunk:
                break
            offset += batch
            for registration in chunk:
                if len(invited) >= places:
                    break
                person = registration.person
                try:
                    nxt = rules.dose_check(
                        doses=person_dose_facts(person),
                        vaccine=campaign.vaccine,
                        day=locked.date,
                        age=person.age_on(locked.date),
                    )
                except DoseRefused:
                    continue
                booking = Booking(
                    session=locked,
                    person=person,
                    dose_number=nxt.sequence,
                    status=Booking.Status.INVITED,
                    booked_by=actor,
                    invited_at=now,
                )
                try:
                    with transaction.atomic():
                        booking.save()
                except IntegrityError:
                    continue
                _take_place(locked)
                with notice_language(person):
                    text = _(
                        "You are invited for COVID-19 vaccination (dose %(dose)s) at %(site)s "
                        "on %(date)s, %(start)s–%(end)s. Please confirm or decline in the app."
                    ) % {"dose": nxt.sequence, **_session_text(locked)}
                    _notify(
                        person,
                        key=f"vaccination:invite:{booking.uuid}",
                        text=text,
                        subject=_("Invitation to vaccination"),
                        link=reverse("vaccination:my_vaccinations"),
                    )
                invited.append(booking)
        audit(
            actor,
            "vaccination.invitations.sent",
            locked,
            details={"asked": count, "invited": len(invited)},
        )
    return invited
