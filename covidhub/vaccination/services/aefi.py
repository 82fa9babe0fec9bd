"""Adverse events following immunisation; a serious one reaches the district at once."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from covidhub.accounts.models import Role, User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.notifications.language import account_language
from covidhub.notifications.services import message_queue
from covidhub.people.models import Person
from covidhub.vaccination.models import AdverseEvent, Dose, VaccinationSite
from covidhub.vaccination.scoping import SITE_ROLES, site_q
from covidhub.vaccination.services.common import audit


def _may_report(actor: User, person: Person) -> bool:
    if actor.kind == User.Kind.CITIZEN:
        return person.managed_by_id == actor.pk
    scope = actor_scope(actor)
    if scope.has_role(*OFFICER_ROLES) and scope.covers_path(person.commune_path):
        return True
    sites = VaccinationSite.objects.filter(site_q(actor, roles=SITE_ROLES))
    return Dose.objects.filter(person=person, site__in=sites).exists()


def aefi_report(
    *,
    actor: User,
    person: Person,
    severity: str,
    symptoms: str,
    onset_at: datetime.datetime,
    dose: Dose | None = None,
) -> AdverseEvent:
    """Record a reaction (by the citizen, site staff or an officer)."""
    if not _may_report(actor, person):
        raise NotFound()
    errors: dict[str, list[str]] = {}
    symptoms = (symptoms or "").strip()
    if severity not in AdverseEvent.Severity.values:
        errors["severity"] = [_("Choose how serious the reaction is.")]
    if not symptoms or len(symptoms) > 1000:
        errors["symptoms"] = [_("Describe what happened (up to 1,000 characters).")]
    now = timezone.now()
    if onset_at > now + datetime.timedelta(minutes=5):
        errors["onset_at"] = [_("The time is in the future.")]
    if dose is not None and dose.person_id != person.pk:
        errors["dose"] = [_("Choose one of this person's doses.")]
    elif dose is not None and onset_at < dose.administered_at - datetime.timedelta(hours=1):
        errors["onset_at"] = [_("The reaction cannot start before the dose was given.")]
    if errors:
        raise InvalidInput(details={"fields": errors})
    if dose is None:
        dose = (
            Dose.objects.filter(
                person=person, status=Dose.Status.VALID, administered_at__lte=onset_at
            )
            .order_by("-administered_at")
            .first()
        )
    with transaction.atomic():
        event = AdverseEvent.objects.create(
            person=person,
            dose=dose,
            severity=severity,
            symptoms=symptoms,
            onset_at=onset_at,
            reported_by_citizen=actor.kind == User.Kind.CITIZEN,
            reported_by=actor,
            commune_path=person.commune_path,
        )
        if severity == AdverseEvent.Severity.SERIOUS:
            _escalate(event, person)
        audit(
            actor,
            "vaccination.aefi.reported",
            event,
            person_uuid=person.uuid,
            details={"severity": severity},
        )
    return event


def _escalate(event: AdverseEvent, person: Person) -> None:
    """Tell every district officer of the person's district now (in-app and SMS)."""
    district_id = person.commune.parent_id
    officers = User.objects.filter(
        is_active=True,
        role_assignments__role=Role.DISTRICT_OFFICER,
        role_assignments__area_id=district_id or 0,
    ).distinct()
    link = reverse("vaccination:staff_aefi_list")
    for officer in officers:
        language = account_language(officer)
        with translation.override(language):
            # No name or identity in the text: the officer opens the platform to see who.
            body = _(
                "Serious adverse event after COVID-19 vaccination reported in %(commune)s. "
                "Open the AEFI list in covidhub now."
            ) % {"commune": person.commune.name}
            subject = _("Serious AEFI")
        message_queue(
            channel="inapp",
            user=officer,
            subject=subject,
            body=body,
            link=link,
            language=language,
            sensitive=True,
            dedupe_key=f"vaccination:aefi:{event.uuid}:{officer.pk}:inapp",
        )
        if officer.phone:
            message_queue(
                channel="sms",
                to=officer.phone,
                body=body,
                language=language,
                sensitive=True,
                dedupe_key=f"vaccination:aefi:{event.uuid}:{officer.pk}:sms",
            )
    event.escalated_at = timezone.now()
    event.save(update_fields=["escalated_at"])
