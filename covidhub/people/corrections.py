"""Correction requests: how a locked identity changes, and how a claimed number is settled.

A citizen (for their household) or an officer asks; an officer of the person's commune
(or a wider area) decides with evidence. Whoever asked never decides. Approval applies
the values and signals `person_identity_changed` with the request, on which the
certificates capability revokes the person's certificates and issues new ones.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.accounts.models import User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, primary_role
from covidhub.audit.services import audit_record
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.core.text import fold_ascii, icao_transliterate
from covidhub.notifications.language import notice_language
from covidhub.notifications.services import message_queue
from covidhub.people.claims import identity_holder, identity_proposed, identity_snapshot
from covidhub.people.errors import (
    CorrectionDecided,
    CorrectionPending,
    IdentityUnusable,
    OwnRequest,
)
from covidhub.people.models import CorrectionRequest, Person
from covidhub.people.services import person_identity_changed_on_commit
from covidhub.people.validation import PersonInput

REASON_MAX = 500


def _role(actor: Any) -> str:
    return primary_role(actor_scope(actor))


def _text(value: str, *, field: str, required: bool, limit: int) -> str:
    text = (value or "").strip()
    if required and len(text) < 3:
        raise InvalidInput(details={"fields": {field: [_("Explain in a few words.")]}})
    if len(text) > limit:
        raise InvalidInput(
            details={"fields": {field: [_("At most %(count)s characters.") % {"count": limit}]}}
        )
    return text


@transaction.atomic
def correction_request_create(
    *, actor: User, person: Person, data: PersonInput, reason: str
) -> CorrectionRequest:
    """Ask for a person's identity to be changed to `data`'s; the caller has scoped
    `person` to the actor (their household, or their area).

    Nothing is checked against other records here (whether the new number is held by
    someone is the deciding officer's to see): the answer reveals nothing.
    """
    reason = _text(reason, field="reason", required=True, limit=REASON_MAX)
    person = Person.objects.select_for_update().get(pk=person.pk)
    if CorrectionRequest.objects.filter(
        person=person, status=CorrectionRequest.Status.PENDING
    ).exists():
        raise CorrectionPending()
    proposed = identity_proposed(data)
    if proposed == identity_snapshot(person):
        raise InvalidInput(_("The values are the same as on the record."), code="no_change")
    try:
        with transaction.atomic():
            request = CorrectionRequest.objects.create(
                kind=CorrectionRequest.Kind.CORRECTION,
                person=person,
                proposed=proposed,
                previous=identity_snapshot(person),
                reason=reason,
                requested_by=actor,
            )
    except IntegrityError as exc:  # another request was made at the same moment
        raise CorrectionPending() from exc
    audit_record(
        actor=actor,
        actor_role=_role(actor),
        action="people.correction.requested",
        obj=person,
        details={"request": str(request.uuid), "fields": _changed_fields(request)},
    )
    return request


def _changed_fields(request: CorrectionRequest) -> list[str]:
    return sorted(k for k, v in request.proposed.items() if request.previous.get(k) != v)


def _locked_request(*, actor: User, request: CorrectionRequest) -> CorrectionRequest:
    """The request and its person locked (person first, the fixed order), re-checked
    against the actor's scope and the four-eyes rule."""
    scope = actor_scope(actor)
    if not scope.has_role(*OFFICER_ROLES):
        raise NotFound()
    Person.objects.select_for_update().filter(pk=request.person_id).first()
    locked = (
        CorrectionRequest.objects.select_for_update()
        .select_related("person")
        .filter(pk=request.pk)
        .first()
    )
    if locked is None or not scope.covers_path(locked.person.commune_path):
        raise NotFound()
    if locked.status != CorrectionRequest.Status.PENDING:
        raise CorrectionDecided()
    if locked.requested_by_id == actor.pk:
        raise OwnRequest()
    return locked


def _decide(
    request: CorrectionRequest, *, actor: User, status: str, note: str, reference: str
) -> None:
    request.status = status
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note
    request.evidence_reference = reference
    request.save()
    _tell_account(request)


def _tell_account(request: CorrectionRequest) -> None:
    """The person's account learns the decision in its language (in the app's inbox)."""
    account = request.person.managed_by
    if account is None:
        return
    with notice_language(request.person) as language:
        if request.status == CorrectionRequest.Status.APPROVED:
            body = _(
                "The commune approved the correction of %(name)s's identity. If there are "
                "COVID-19 certificates, new ones are issued and the old QR codes stop working."
            ) % {"name": request.person.full_name}
        else:
            body = _(
                "The commune did not approve the request about %(name)s's identity: %(reason)s"
            ) % {"name": request.person.full_name, "reason": request.decision_note}
        subject = _("Your identity correction request")
    message_queue(
        channel="inapp",
        user=account,
        subject=subject,
        body=body,
        language=language,
        link=f"/me/household/{request.person.uuid}/",
        sensitive=True,
        dedupe_key=f"people:correction:{request.uuid}",
    )


@transaction.atomic
def correction_approve(
    *, actor: User, request: CorrectionRequest, evidence_note: str, evidence_reference: str = ""
) -> CorrectionRequest:
    """Apply a pending request after checking the evidence named in `evidence_note`.

    A proposed identity number that another record holds moves to the person: the record
    that held it loses it (that record's trail says so).
    """
    request = _locked_request(actor=actor, request=request)
    note = _text(evidence_note, field="evidence_note", required=True, limit=REASON_MAX)
    reference = _text(evidence_reference, field="evidence_reference", required=False, limit=200)
    person = request.person
    proposed = request.proposed
    holder = identity_holder(
        id_type=proposed["id_type"], id_number=proposed["id_number"], exclude_pk=person.pk
    )
    if holder is not None:
        # The officer has seen the card and the page warned that another record holds
        # the number (a claim, or a correction to a number registered in error there).
        holder = Person.objects.select_for_update().get(pk=holder.pk)
        holder.id_type, holder.id_number = "", ""
        holder.save(update_fields=["id_type", "id_number", "updated_at"])
        audit_record(
            actor=actor,
            actor_role=_role(actor),
            action="people.identity.released",
            obj=holder,
            details={"request": str(request.uuid)},
        )
    _apply_identity(person, proposed)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:
        raise IdentityUnusable() from exc
    _decide(
        request,
        actor=actor,
        status=CorrectionRequest.Status.APPROVED,
        note=note,
        reference=reference,
    )
    audit_record(
        actor=actor,
        actor_role=_role(actor),
        action="people.correction.approved",
        obj=person,
        details={
            "request": str(request.uuid),
            "kind": request.kind,
            "fields": _changed_fields(request),
            "released_from_other_record": holder is not None,
        },
    )
    person_identity_changed_on_commit(person=person, actor=actor, correction=request)
    return request


def _apply_identity(person: Person, proposed: dict[str, Any]) -> None:
    from covidhub.core.dates import partial_date_parse

    birth = partial_date_parse(proposed["birth"])
    person.full_name = proposed["full_name"]
    person.search_name = fold_ascii(person.full_name)
    person.icao_name = icao_transliterate(person.full_name)
    person.birth_year = birth.year
    person.birth_date = birth.as_date()
    person.sex = proposed["sex"]
    person.id_type = proposed["id_type"]
    person.id_number = proposed["id_number"]


@transaction.atomic
def correction_reject(*, actor: User, request: CorrectionRequest, reason: str) -> CorrectionRequest:
    """Refuse a pending request, with the reason the requester will read."""
    request = _locked_request(actor=actor, request=request)
    reason = _text(reason, field="reason", required=True, limit=REASON_MAX)
    _decide(
        request, actor=actor, status=CorrectionRequest.Status.REJECTED, note=reason, reference=""
    )
    audit_record(
        actor=actor,
        actor_role=_role(actor),
        action="people.correction.rejected",
        obj=request.person,
        details={"request": str(request.uuid), "kind": request.kind},
    )
    return request
