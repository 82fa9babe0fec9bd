"""Issuing certificates from facts: round trip, schema and codes, idempotency, names."""

from datetime import timedelta

import cbor2
import pytest
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.certificates.dcc import hc1_decode, hcert_schema_issues, uvci_validate
from covidhub.certificates.errors import NoSigningKey, NotIssuable
from covidhub.certificates.facts import RecoveryFacts
from covidhub.certificates.models import IssuedCertificate
from covidhub.certificates.services import (
    certificate_issue_recovery,
    certificate_issue_test,
    certificate_issue_vaccination,
)
from covidhub.certificates.verification import certificate_verify

pytestmark = pytest.mark.django_db


def test_vaccination_round_trip(signing_key, make_person, vaccination_facts):
    person = make_person(full_name="Nguyễn Thị Hồng  Ngọc", birth="15/03/1985")
    certificate = certificate_issue_vaccination(facts=vaccination_facts(person, dose=1, total=2))
    assert certificate.kind == "v"
    assert certificate.kid == signing_key.kid
    uvci_validate(certificate.uvci)
    assert certificate.uvci.startswith("URN:UVCI:01:VN:")
    payload = certificate.payload
    assert hcert_schema_issues(payload) == []
    assert payload["nam"] == {
        "fn": "Nguyễn",
        "fnt": "NGUYEN",
        "gn": "Thị Hồng Ngọc",
        "gnt": "THI<HONG<NGOC",
    }
    assert payload["dob"] == "1985-03-15"
    assert payload["v"][0]["dn"] == 1 and payload["v"][0]["sd"] == 2
    outcome = certificate_verify(text=certificate.hc1)
    assert outcome.valid, outcome.result
    assert outcome.family_name == "Nguyễn"
    assert outcome.uvci == certificate.uvci
    claims = cbor2.loads(cbor2.loads(hc1_decode(certificate.hc1)).value[2])
    assert claims[1] == "VN"
    assert claims[4] == int(certificate.expires_at.timestamp())
    assert claims[6] == int(certificate.issued_at.timestamp())
    assert AuditEvent.objects.filter(
        action="certificates.certificate.issued", person_uuid=person.uuid
    ).exists()


def test_the_issuer_is_the_persons_province(
    signing_key, make_person, vaccination_facts, two_provinces
):
    """A deployment serving several provinces: each certificate names the Department of
    Health of the person's own province."""
    hai_duong = make_person(full_name="Nguyễn Văn Hải")
    ha_noi = make_person(full_name="Trần Văn Nội", commune=two_provinces["other_province_commune"])
    issued = {
        person.full_name: certificate_issue_vaccination(facts=vaccination_facts(person))
        for person in (hai_duong, ha_noi)
    }
    assert issued["Nguyễn Văn Hải"].payload["v"][0]["is"] == "Sở Y tế tỉnh Hải Dương"
    assert issued["Trần Văn Nội"].payload["v"][0]["is"] == "Sở Y tế thành phố Hà Nội"


def test_year_only_birth_is_written_as_year(signing_key, make_person, vaccination_facts):
    person = make_person(birth="1950")
    certificate = certificate_issue_vaccination(facts=vaccination_facts(person))
    assert certificate.payload["dob"] == "1950"


def test_retried_issue_returns_the_same_certificate(signing_key, make_person, vaccination_facts):
    person = make_person()
    first = certificate_issue_vaccination(facts=vaccination_facts(person))
    again = certificate_issue_vaccination(facts=vaccination_facts(person))
    assert first.pk == again.pk
    assert IssuedCertificate.objects.count() == 1


def test_one_live_certificate_per_source_is_a_database_constraint(
    signing_key, make_person, vaccination_facts
):
    from django.db import IntegrityError, transaction

    person = make_person()
    first = certificate_issue_vaccination(facts=vaccination_facts(person))
    clone = IssuedCertificate.objects.get(pk=first.pk)
    clone.pk = None
    clone.uuid = __import__("uuid").uuid4()
    clone.uvci = "URN:UVCI:01:VN:OTHER"
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()


def test_test_certificate_negative_pcr_and_rapid_antigen(signing_key, make_person, test_facts):
    person = make_person()
    pcr = certificate_issue_test(facts=test_facts(person, testing_centre="CDC Hải Dương"))
    assert pcr.payload["t"][0]["tr"] == "260415000"
    assert pcr.payload["t"][0]["tc"] == "CDC Hải Dương"
    assert certificate_verify(text=pcr.hc1).valid
    assert pcr.expires_at >= pcr.issued_at + timedelta(hours=24)
    rat = certificate_issue_test(
        facts=test_facts(person, hours_ago=2, test_type="LP217198-3", rat_device="1232")
    )
    assert rat.payload["t"][0]["ma"] == "1232"
    assert certificate_verify(text=rat.hc1).valid


def test_rapid_antigen_without_device_is_not_issuable(signing_key, make_person, test_facts):
    person = make_person()
    with pytest.raises(NotIssuable) as caught:
        certificate_issue_test(facts=test_facts(person, test_type="LP217198-3"))
    assert caught.value.code == "rat_device_required"
    assert not IssuedCertificate.objects.exists()


def test_unknown_vaccine_code_is_refused_with_nothing_saved(
    signing_key, make_person, vaccination_facts
):
    person = make_person()
    with pytest.raises(NotIssuable) as caught:
        certificate_issue_vaccination(facts=vaccination_facts(person, medicinal_product="NOPE"))
    assert caught.value.code == "unknown_code"
    with pytest.raises(NotIssuable) as caught:
        certificate_issue_vaccination(facts=vaccination_facts(person, manufacturer="ORG-100001699"))
    assert caught.value.code == "inconsistent_codes"
    assert not IssuedCertificate.objects.exists()


def test_recovery_valid_from_day_11_to_day_180(signing_key, make_person):
    person = make_person()
    first_positive = timezone.localdate() - timedelta(days=20)
    certificate = certificate_issue_recovery(
        facts=RecoveryFacts(
            person=person,
            source_type="testing.result",
            source_id="p1",
            first_positive_on=first_positive,
        )
    )
    entry = certificate.payload["r"][0]
    assert entry["fr"] == first_positive.isoformat()
    assert entry["df"] == (first_positive + timedelta(days=10)).isoformat()
    assert entry["du"] == (first_positive + timedelta(days=179)).isoformat()
    assert certificate.expires_at.date() == first_positive + timedelta(days=179)
    assert certificate_verify(text=certificate.hc1).valid


def test_recovery_after_day_180_is_not_issuable(signing_key, make_person):
    person = make_person()
    with pytest.raises(NotIssuable) as caught:
        certificate_issue_recovery(
            facts=RecoveryFacts(
                person=person,
                source_type="testing.result",
                source_id="old",
                first_positive_on=timezone.localdate() - timedelta(days=200),
            )
        )
    assert caught.value.code == "recovery_period_over"


def test_no_key_means_a_clear_error(db, make_person, vaccination_facts):
    person = make_person()
    with pytest.raises(NoSigningKey):
        certificate_issue_vaccination(facts=vaccination_facts(person))


def test_expiry_is_clamped_to_the_signing_certificate(make_person, vaccination_facts):
    from covidhub.certificates.keystore import signing_key_create_development

    key, _ = signing_key_create_development(actor=None, valid_for=timedelta(days=30))
    person = make_person()
    certificate = certificate_issue_vaccination(facts=vaccination_facts(person))
    assert certificate.expires_at <= key.not_valid_after
    assert certificate_verify(text=certificate.hc1).valid
