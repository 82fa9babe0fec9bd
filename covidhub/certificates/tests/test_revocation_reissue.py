"""Revocation by UVCI and by key, re-issuing on identity correction and key revocation."""

import pytest
from django.core.management import call_command

from covidhub.audit.models import AuditEvent
from covidhub.certificates.errors import AlreadyRevoked
from covidhub.certificates.models import IssuedCertificate, Revocation, SigningKey
from covidhub.certificates.selectors import revocation_list_document
from covidhub.certificates.services import (
    certificate_issue_vaccination,
    certificate_revoke,
    certificates_reissue_for_key,
    signing_key_revoke,
    uvci_revoke,
)
from covidhub.certificates.verification import certificate_verify, uvci_hash
from covidhub.core.testing import run_queued_tasks
from covidhub.notifications.models import Message

pytestmark = pytest.mark.django_db


def test_revoked_certificate_is_refused_and_published(
    signing_key, make_person, vaccination_facts, province_admin
):
    certificate = certificate_issue_vaccination(facts=vaccination_facts(make_person()))
    assert certificate_verify(text=certificate.hc1).valid
    certificate_revoke(certificate=certificate, reason="issued in error", actor=province_admin)
    outcome = certificate_verify(text=certificate.hc1)
    assert not outcome.valid and outcome.reason == "revoked"
    assert outcome.family_name == ""  # nothing personal shown for a refused certificate
    assert uvci_hash(certificate.uvci) in revocation_list_document()["uvci_sha256"]
    with pytest.raises(AlreadyRevoked):
        certificate_revoke(certificate=certificate, reason="again", actor=province_admin)
    assert AuditEvent.objects.filter(action="certificates.certificate.revoked").count() == 1


def test_revoke_by_uvci_in_lower_case_and_foreign(signing_key, make_person, vaccination_facts):
    certificate = certificate_issue_vaccination(facts=vaccination_facts(make_person()))
    uvci_revoke(uvci=certificate.uvci.lower(), reason="fraud", actor=None)
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert certificate_verify(text=certificate.hc1).reason == "revoked"
    uvci_revoke(
        uvci="URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B", reason="fraud", actor=None
    )
    assert Revocation.objects.filter(kind="uvci").count() == 2


def test_key_revocation_invalidates_all_and_reissues_with_the_new_key(
    make_person, vaccination_facts, citizen, citizen_person
):
    from covidhub.certificates.keystore import signing_key_create_development

    old, _ = signing_key_create_development(actor=None)
    other_person = make_person()
    first = certificate_issue_vaccination(facts=vaccination_facts(citizen_person))
    second = certificate_issue_vaccination(facts=vaccination_facts(other_person))
    assert signing_key_revoke(kid=old.kid, reason="key compromised", actor=None) == 2
    assert certificate_verify(text=first.hc1).reason == "key_revoked"
    assert certificate_verify(text=second.hc1).reason == "key_revoked"
    old.refresh_from_db()
    assert old.status == SigningKey.Status.RETIRED
    new, _ = signing_key_create_development(actor=None)
    assert certificates_reissue_for_key(kid=old.kid, reason="key compromised") == 2
    replacement = IssuedCertificate.objects.get(person=citizen_person, revoked_at__isnull=True)
    assert replacement.kid == new.kid
    assert certificate_verify(text=replacement.hc1).valid
    first.refresh_from_db()
    assert first.superseded_by == replacement
    assert Message.objects.filter(user=citizen, channel="inapp").exists()
    # Running it again issues nothing twice.
    assert certificates_reissue_for_key(kid=old.kid, reason="key compromised") == 0


def test_keys_command_revokes_and_reissues_through_the_worker(
    make_person, vaccination_facts, django_capture_on_commit_callbacks
):
    from io import StringIO

    from covidhub.certificates.keystore import signing_key_create_development

    old, _ = signing_key_create_development(actor=None)
    person = make_person()
    certificate_issue_vaccination(facts=vaccination_facts(person))
    signing_key_create_development(actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "certificates_keys",
            "revoke",
            old.kid,
            "--reason",
            "rotation",
            "--reissue",
            stdout=StringIO(),
        )
    run_queued_tasks()
    live = IssuedCertificate.objects.get(person=person, revoked_at__isnull=True)
    assert live.kid != old.kid
    assert certificate_verify(text=live.hc1).valid


def test_identity_correction_reissues_revokes_and_tells_the_person(
    signing_key,
    citizen,
    citizen_person,
    commune_officer,
    vaccination_facts,
    django_capture_on_commit_callbacks,
):
    from covidhub.people.corrections import correction_approve, correction_request_create
    from covidhub.people.validation import person_input_clean

    old = certificate_issue_vaccination(facts=vaccination_facts(citizen_person))
    citizen.language = "en"
    citizen.save()
    raw = {
        "full_name": "Trần Văn Đức",
        "birth": "16/03/1985",
        "sex": citizen_person.sex,
        "commune": citizen_person.commune,
        "phone": citizen_person.phone,
    }
    request = correction_request_create(
        actor=citizen, person=citizen_person, data=person_input_clean(raw), reason="misspelt"
    )
    with django_capture_on_commit_callbacks(execute=True):
        correction_approve(actor=commune_officer, request=request, evidence_note="CCCD seen")
    with django_capture_on_commit_callbacks(execute=True):
        run_queued_tasks()
    old.refresh_from_db()
    assert old.revoked_at is not None and old.superseded_by is not None
    assert old.revocation_reason == f"identity_corrected:{request.uuid}"
    new = old.superseded_by
    assert new.payload["nam"]["fn"] == "Trần"
    assert new.payload["nam"]["gnt"] == "VAN<DUC"
    assert new.payload["dob"] == "1985-03-16"
    assert new.uvci != old.uvci
    assert new.payload["v"][0]["dt"] == old.payload["v"][0]["dt"]
    assert certificate_verify(text=old.hc1).reason == "revoked"
    assert certificate_verify(text=new.hc1).valid
    message = Message.objects.get(
        user=citizen, channel="inapp", dedupe_key__startswith="certificates:"
    )
    assert message.language == "en"
    assert "re-issued" in message.body
    decision = Message.objects.get(user=citizen, channel="inapp", dedupe_key__startswith="people:")
    assert decision.language == "en" and "approved" in decision.body
    # The same identity signalled again without a new approval re-issues nothing.
    from covidhub.people.services import person_identity_changed

    with django_capture_on_commit_callbacks(execute=True):
        person_identity_changed.send(sender=None, person=citizen_person, actor=citizen)
    run_queued_tasks()
    assert IssuedCertificate.objects.filter(person=citizen_person).count() == 2
