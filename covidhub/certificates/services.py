"""Writes of the certificates capability: issuing, revoking, re-issuing.

One live certificate per source record (a dose, a test result, a recovery) is a
database constraint, so a retried task or a duplicate signal issues nothing twice.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.audit.services import audit_record
from covidhub.certificates.dcc import (
    TEST_RESULT_DETECTED,
    TEST_RESULT_NOT_DETECTED,
    TEST_TYPE_NAAT,
    TEST_TYPE_RAT,
    DccError,
    Hcert,
    hc1_encode,
    hcert_build_recovery,
    hcert_build_test,
    hcert_build_vaccination,
    hcert_sign,
)
from covidhub.certificates.errors import AlreadyRevoked, NotIssuable, domain_error_from
from covidhub.certificates.facts import (
    RECOVERY_VALID_FROM_DAY,
    RECOVERY_VALID_UNTIL_DAY,
    Facts,
    RecoveryFacts,
    TestFacts,
    VaccinationFacts,
    issuer_of,
)
from covidhub.certificates.keystore import signer_current, trust_list_changed
from covidhub.certificates.models import IssuedCertificate, Revocation, SigningKey
from covidhub.certificates.signals import certificates_revoked
from covidhub.certificates.storage import (
    certificate_store_with_audit,
    issued_audit_event,
    single_statement_supported,
)
from covidhub.core.text import nfc
from covidhub.notifications.language import notice_language
from covidhub.notifications.services import message_queue
from covidhub.people.models import Person

VACCINATION_VALIDITY: Final = timedelta(days=365)
TEST_VALIDITY: Final = timedelta(hours=72)
MINIMUM_VALIDITY: Final = timedelta(days=1)


def person_dcc_name(person: Person) -> tuple[str, str]:
    """(family name, given names) of a Vietnamese full name: the family name comes first."""
    parts = nfc(person.full_name).split(" ")
    return parts[0], " ".join(parts[1:])


def person_dcc_birth(person: Person) -> str:
    return person.birth.iso()


@dataclass(frozen=True)
class _Built:
    kind: str
    hcert: Hcert
    event_date: date
    expires_at: datetime
    dose_number: int | None = None
    total_doses: int | None = None
    test_positive: bool | None = None
    valid_from: date | None = None


def _end_of_day_utc(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def _build(facts: Facts, *, now: datetime, uvci: str | None = None) -> _Built:
    family, given = person_dcc_name(facts.person)
    birth = person_dcc_birth(facts.person)
    common: dict[str, Any] = {
        "family_name": family,
        "given_name": given,
        "date_of_birth": birth,
        "issuer": facts.issuer or issuer_of(facts.person),
        "country": facts.country,
        "uvci": uvci,
    }
    if isinstance(facts, VaccinationFacts):
        hcert = hcert_build_vaccination(
            prophylaxis=facts.prophylaxis,
            medicinal_product=facts.medicinal_product,
            manufacturer=facts.manufacturer,
            dose_number=facts.dose_number,
            total_doses=facts.total_doses,
            vaccination_date=facts.vaccination_date,
            **common,
        )
        return _Built(
            kind="v",
            hcert=hcert,
            event_date=facts.vaccination_date,
            expires_at=now + VACCINATION_VALIDITY,
            dose_number=facts.dose_number,
            total_doses=facts.total_doses,
        )
    if isinstance(facts, TestFacts):
        hcert = hcert_build_test(
            test_type=facts.test_type,
            sample_collected_at=facts.sample_collected_at,
            result=TEST_RESULT_DETECTED if facts.positive else TEST_RESULT_NOT_DETECTED,
            naa_test_name=facts.naa_test_name or None,
            rat_device=facts.rat_device or None,
            testing_centre=facts.testing_centre or None,
            **common,
        )
        return _Built(
            kind="t",
            hcert=hcert,
            event_date=timezone.localdate(facts.sample_collected_at),
            expires_at=max(facts.sample_collected_at + TEST_VALIDITY, now + MINIMUM_VALIDITY),
            test_positive=facts.positive,
        )
    valid_from = facts.first_positive_on + timedelta(days=RECOVERY_VALID_FROM_DAY - 1)
    valid_until = facts.first_positive_on + timedelta(days=RECOVERY_VALID_UNTIL_DAY - 1)
    if _end_of_day_utc(valid_until) <= now:
        raise NotIssuable(
            _("The recovery period of this positive test is over."), code="recovery_period_over"
        )
    hcert = hcert_build_recovery(
        first_positive_on=facts.first_positive_on,
        valid_from=valid_from,
        valid_until=valid_until,
        **common,
    )
    return _Built(
        kind="r",
        hcert=hcert,
        event_date=facts.first_positive_on,
        expires_at=_end_of_day_utc(valid_until),
        valid_from=valid_from,
    )


def _sign(built: _Built, *, now: datetime) -> tuple[str, SigningKey, datetime]:
    key, signer = signer_current(now=now)
    # A certificate cannot outlive the DSC that signed it (verifiers reject it then).
    expires_at = min(built.expires_at, signer.certificate.not_valid_after_utc)
    try:
        cose = hcert_sign(hcert=built.hcert, signer=signer, issued_at=now, expires_at=expires_at)
    except DccError as error:
        raise domain_error_from(error) from error
    return hc1_encode(cose), key, expires_at


def _sampled_at(built: _Built) -> datetime | None:
    if built.kind != "t":
        return None
    return datetime.fromisoformat(built.hcert["t"][0]["sc"].replace("Z", "+00:00"))


def _row(
    *, facts: Facts, built: _Built, now: datetime, source_type: str = "", source_id: str = ""
) -> IssuedCertificate:
    """The signed, unsaved certificate for `built`."""
    hc1, key, expires_at = _sign(built, now=now)
    return IssuedCertificate(
        person=facts.person,
        kind=built.kind,
        uvci=built.hcert[built.kind][0]["ci"],
        source_type=source_type or facts.source_type,
        source_id=source_id or facts.source_id,
        payload=built.hcert,
        hc1=hc1,
        issued_at=now,
        expires_at=expires_at,
        kid=key.kid,
        signing_key=key,
        event_date=built.event_date,
        sampled_at=_sampled_at(built),
        dose_number=built.dose_number,
        total_doses=built.total_doses,
        test_positive=built.test_positive,
        valid_from=built.valid_from,
    )


def _create(
    *, facts: Facts, built: _Built, now: datetime, source_type: str, source_id: str
) -> IssuedCertificate:
    row = _row(facts=facts, built=built, now=now, source_type=source_type, source_id=source_id)
    row.save(force_insert=True)
    return row


def certificate_issue(
    *, facts: Facts, actor: Any = None, now: datetime | None = None
) -> IssuedCertificate:
    """Issue the certificate for one source record, or return the live one it already has.

    Validates the payload (schema, value sets), signs with the newest valid key, stores
    it and writes an audit row, all in one transaction (on PostgreSQL, one statement).
    """
    moment = (now or timezone.now()).replace(microsecond=0)
    # No look-up first: the partial unique constraint answers a retry (ON CONFLICT, or
    # the IntegrityError below), and a query per certificate would cost a third of
    # issuing one.
    try:
        built = _build(facts, now=moment)
    except DccError as error:
        raise domain_error_from(error) from error
    if single_statement_supported():
        return _issue_in_one_statement(facts=facts, built=built, now=moment, actor=actor)
    try:
        with transaction.atomic():
            certificate = _create(
                facts=facts,
                built=built,
                now=moment,
                source_type=facts.source_type,
                source_id=facts.source_id,
            )
            audit_record(
                actor=actor,
                action="certificates.certificate.issued",
                obj=certificate,
                person_uuid=facts.person.uuid,
                details={"kind": certificate.kind, "kid": certificate.kid},
            )
    except IntegrityError:
        # A concurrent task issued it between the check and the insert.
        return IssuedCertificate.objects.get(
            source_type=facts.source_type, source_id=facts.source_id, revoked_at__isnull=True
        )
    return certificate


def _issue_in_one_statement(
    *, facts: Facts, built: _Built, now: datetime, actor: Any
) -> IssuedCertificate:
    """`certificate_issue` on PostgreSQL: certificate and audit row in one statement.

    One round trip instead of BEGIN, two INSERTs and COMMIT (`storage.py`). Inside a
    caller's transaction a savepoint keeps that transaction usable if the insert fails,
    as the atomic block of the ORM path does.
    """
    certificate = _row(facts=facts, built=built, now=now)
    event = issued_audit_event(
        certificate=certificate,
        actor=actor,
        details={"kind": certificate.kind, "kid": certificate.kid},
    )
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            stored = certificate_store_with_audit(certificate=certificate, event=event)
    except IntegrityError:
        stored = False
    if stored:
        return certificate
    # The source already has a live certificate (a retry, or a concurrent task).
    return IssuedCertificate.objects.get(
        source_type=facts.source_type, source_id=facts.source_id, revoked_at__isnull=True
    )


def certificates_issue_many(
    *, facts_list: list[Facts], actor: Any = None, now: datetime | None = None
) -> tuple[list[IssuedCertificate], dict[str, str]]:
    """Issue many certificates in one transaction: the path of a result-release burst.

    Returns (the certificates created, {source_id: error code} for facts that cannot be
    certified). Sources that already have a live certificate are skipped (the partial
    unique constraint, ON CONFLICT DO NOTHING), so a retried batch creates nothing twice.
    One insert for the certificates and one for their audit rows replace two round trips
    and a commit per certificate.
    """
    from covidhub.audit.services import audit_record_many

    moment = (now or timezone.now()).replace(microsecond=0)
    refused: dict[str, str] = {}
    rows: list[IssuedCertificate] = []
    for facts in facts_list:
        try:
            built = _build(facts, now=moment)
            rows.append(_row(facts=facts, built=built, now=moment))
        except DccError as error:
            refused[facts.source_id] = error.code
        except NotIssuable as error:
            refused[facts.source_id] = error.code
    if not rows:
        return [], refused
    with transaction.atomic():
        IssuedCertificate.objects.bulk_create(rows, ignore_conflicts=True)
        inserted = set(
            IssuedCertificate.objects.filter(uuid__in=[row.uuid for row in rows]).values_list(
                "uuid", flat=True
            )
        )
        created = [row for row in rows if row.uuid in inserted]
        for row in created:
            row.person_uuid = row.person.uuid  # type: ignore[attr-defined]  # for the audit rows
        audit_record_many(
            actor=actor, action="certificates.certificate.issued", objects=list(created)
        )
    return created, refused


def certificate_issue_vaccination(
    *, facts: VaccinationFacts, actor: Any = None, now: datetime | None = None
) -> IssuedCertificate:
    """A vaccination certificate for one dose (dose number and series total)."""
    return certificate_issue(facts=facts, actor=actor, now=now)


def certificate_issue_test(
    *, facts: TestFacts, actor: Any = None, now: datetime | None = None
) -> IssuedCertificate:
    """A test certificate for one NAAT (RT-PCR) or rapid antigen result."""
    if facts.test_type not in (TEST_TYPE_NAAT, TEST_TYPE_RAT):
        raise NotIssuable(code="test_type_unknown")
    return certificate_issue(facts=facts, actor=actor, now=now)


def certificate_issue_recovery(
    *, facts: RecoveryFacts, actor: Any = None, now: datetime | None = None
) -> IssuedCertificate:
    """A recovery certificate from a positive test: valid from day 11 to day 180."""
    return certificate_issue(facts=facts, actor=actor, now=now)


def _revoke(
    certificate: IssuedCertificate, *, now: datetime, reason: str, actor: Any
) -> IssuedCertificate:
    certificate.revoked_at = now
    certificate.revocation_reason = reason[:200]
    certificate.save(update_fields=["revoked_at", "revocation_reason"])
    certificates_revoked.send(
        sender=IssuedCertificate, certificates=IssuedCertificate.objects.filter(pk=certificate.pk)
    )
    Revocation.objects.get_or_create(
        kind=Revocation.Kind.UVCI,
        value=certificate.uvci.upper(),
        defaults={
            "reason": reason[:200],
            "created_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    return certificate


@transaction.atomic
def certificate_print_record(*, certificate: IssuedCertificate, actor: Any, printed: str) -> None:
    """Record that an officer printed a certificate for its holder (`printed`: what)."""
    audit_record(
        actor=actor,
        action="certificates.certificate.printed",
        obj=certificate,
        person_uuid=certificate.person.uuid,
        details={"printed": printed, "kind": certificate.kind},
    )


@transaction.atomic
def certificate_revoke(
    *, certificate: IssuedCertificate, reason: str, actor: Any, now: datetime | None = None
) -> IssuedCertificate:
    """Revoke one certificate: it is published in the revocation list at once."""
    certificate = IssuedCertificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.revoked_at is not None:
        raise AlreadyRevoked()
    _revoke(certificate, now=now or timezone.now(), reason=reason, actor=actor)
    audit_record(
        actor=actor,
        action="certificates.certificate.revoked",
        obj=certificate,
        person_uuid=certificate.person.uuid,
        details={"kind": certificate.kind},
    )
    return certificate


@transaction.atomic
def uvci_revoke(*, uvci: str, reason: str, actor: Any) -> Revocation:
    """Revoke by UVCI, ours or not (a foreign certificate reported as fraudulent)."""
    value = uvci.strip().upper()
    ours = IssuedCertificate.objects.select_for_update().filter(uvci__iexact=value).first()
    if ours is not None and ours.revoked_at is None:
        certificate_revoke(certificate=ours, reason=reason, actor=actor)
    revocation, _created = Revocation.objects.get_or_create(
        kind=Revocation.Kind.UVCI,
        value=value,
        defaults={
            "reason": reason[:200],
            "created_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    audit_record(
        actor=actor,
        action="certificates.uvci.revoked",
        obj=revocation,
        details={"ours": bool(ours)},
    )
    return revocation


@transaction.atomic
def signing_key_revoke(*, kid: str, reason: str, actor: Any) -> int:
    """Revoke every certificate signed by the DSC `kid`; returns how many of ours it hit.

    The key stops signing (retired) and its kid is published as revoked; the people
    concerned get new certificates from the current key (`certificates_reissue_for_key`).
    """
    value = kid.strip().lower()
    Revocation.objects.get_or_create(
        kind=Revocation.Kind.KID,
        value=value,
        defaults={
            "reason": reason[:200],
            "created_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    SigningKey.objects.filter(kid=value, status=SigningKey.Status.ACTIVE).update(
        status=SigningKey.Status.RETIRED, updated_at=timezone.now()
    )
    trust_list_changed()
    moment = timezone.now()
    hit = IssuedCertificate.objects.filter(kid=value, revoked_at__isnull=True).update(
        revoked_at=moment, revocation_reason=reason[:200]
    )
    if hit:
        certificates_revoked.send(
            sender=IssuedCertificate,
            certificates=IssuedCertificate.objects.filter(kid=value, revoked_at=moment),
        )
    audit_record(
        actor=actor, action="certificates.key.revoked", details={"kid": value, "certificates": hit}
    )
    return hit


def _facts_from_payload(certificate: IssuedCertificate, person: Person) -> Facts:
    """The facts behind a stored certificate, for re-issuing it with corrected identity."""
    entry = certificate.payload[certificate.kind][0]
    source = {"person": person, "source_type": certificate.source_type}
    common = {**source, "source_id": certificate.source_id, "country": entry["co"]}
    if certificate.kind == "v":
        return VaccinationFacts(
            **common,
            issuer=entry["is"],
            medicinal_product=entry["mp"],
            manufacturer=entry["ma"],
            prophylaxis=entry["vp"],
            dose_number=entry["dn"],
            total_doses=entry["sd"],
            vaccination_date=date.fromisoformat(entry["dt"]),
        )
    if certificate.kind == "t":
        return TestFacts(
            **common,
            issuer=entry["is"],
            test_type=entry["tt"],
            positive=entry["tr"] == TEST_RESULT_DETECTED,
            sample_collected_at=datetime.fromisoformat(entry["sc"].replace("Z", "+00:00")),
            naa_test_name=entry.get("nm", ""),
            rat_device=entry.get("ma", ""),
            testing_centre=entry.get("tc", ""),
        )
    return RecoveryFacts(
        **common, issuer=entry["is"], first_positive_on=date.fromisoformat(entry["fr"])
    )


def certificates_reissue_for_person(
    *, person: Person, reason: str, actor: Any = None, now: datetime | None = None
) -> list[IssuedCertificate]:
    """Re-issue every live certificate of a person (identity corrected, key revoked).

    Each new certificate gets a new UVCI; the old one is revoked and points to it. The
    person's account is told in its language. Certificates whose data can no longer be
    issued (a recovery past day 180) are revoked without a successor.
    """
    moment = (now or timezone.now()).replace(microsecond=0)
    created: list[IssuedCertificate] = []
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        old_ones = list(
            IssuedCertificate.objects.select_for_update()
            .filter(person=person, revoked_at__isnull=True)
            .order_by("id")
        )
        for old in old_ones:
            _revoke(old, now=moment, reason=reason, actor=actor)
            try:
                built = _build(_facts_from_payload(old, person), now=moment)
            except (DccError, NotIssuable):
                continue
            new = _create(
                facts=_facts_from_payload(old, person),
                built=built,
                now=moment,
                source_type=old.source_type,
                source_id=old.source_id,
            )
            old.superseded_by = new
            old.save(update_fields=["superseded_by"])
            created.append(new)
            audit_record(
                actor=actor,
                action="certificates.certificate.reissued",
                obj=new,
                person_uuid=person.uuid,
                details={"kind": new.kind, "replaces": str(old.uuid)},
            )
        if old_ones:
            _tell_person(person, count=len(created), key=f"{moment.isoformat()}")
    return created


def certificates_reissue_for_key(*, kid: str, reason: str, actor: Any = None) -> int:
    """After a key revocation: new certificates for everyone whose certificate it signed."""
    people = Person.objects.filter(
        certificates__kid=kid.strip().lower(), certificates__superseded_by__isnull=True
    ).distinct()
    count = 0
    for person in people:
        # Their revoked certificates are re-issued from the stored payloads.
        revoked = IssuedCertificate.objects.filter(
            person=person, kid=kid.strip().lower(), superseded_by__isnull=True
        )
        moment = timezone.now().replace(microsecond=0)
        with transaction.atomic():
            for old in revoked.select_for_update():
                if IssuedCertificate.objects.filter(
                    source_type=old.source_type, source_id=old.source_id, revoked_at__isnull=True
                ).exists():
                    continue
                facts = _facts_from_payload(old, person)
                try:
                    built = _build(facts, now=moment)
                except (DccError, NotIssuable):
                    continue
                new = _create(
                    facts=facts,
                    built=built,
                    now=moment,
                    source_type=old.source_type,
                    source_id=old.source_id,
                )
                old.superseded_by = new
                old.save(update_fields=["superseded_by"])
                audit_record(
                    actor=actor,
                    action="certificates.certificate.reissued",
                    obj=new,
                    person_uuid=person.uuid,
                    details={"kind": new.kind, "replaces": str(old.uuid), "reason": "key"},
                )
                count += 1
            _tell_person(person, count=1, key=f"key-{kid}")
    return count


def _tell_person(person: Person, *, count: int, key: str) -> None:
    account = person.managed_by
    if account is None:
        return
    with notice_language(person) as language:
        subject = _("Your COVID-19 certificates were re-issued")
        body = _(
            "The COVID-19 certificates of %(name)s were re-issued (%(count)s) because the "
            "personal data or the signing key changed. The old QR codes are no longer "
            "valid: please show the new ones in the app."
        ) % {"name": person.full_name, "count": count}
    message_queue(
        channel="inapp",
        user=account,
        subject=subject,
        body=body,
        language=language,
        link="/certificates/",
        sensitive=True,
        dedupe_key=f"certificates:reissued:{person.uuid}:{key}",
    )
    if account.phone:
        message_queue(
            channel="sms",
            to=account.phone,
            user=account,
            body=body,
            language=language,
            sensitive=True,
            dedupe_key=f"certificates:reissued:sms:{person.uuid}:{key}",
        )
