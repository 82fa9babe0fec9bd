"""The fast issuing path: one statement on PostgreSQL, the same rows as the ORM path.

Also the pieces made faster for it, each against the slow original it replaces: the
schema check with inlined references, Base45, the signer's precomputed kid.
"""

import copy
import json
from typing import Any

import base45
import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from covidhub.audit.models import AuditEvent
from covidhub.audit.services import audit_record
from covidhub.certificates.dcc import kid_for_certificate
from covidhub.certificates.dcc.codec import base45_encode
from covidhub.certificates.dcc.schema import (
    _references_inlined,
    _schema_load,
    _validator,
    _validator_for,
)
from covidhub.certificates.keystore import signer_current
from covidhub.certificates.models import IssuedCertificate
from covidhub.certificates.services import certificate_issue_vaccination
from covidhub.certificates.storage import issued_audit_event
from covidhub.certificates.tests.dcc_data import SCHEMA_REPOSITORY
from covidhub.core import request_context

AUDIT_FIELDS = [
    field.attname for field in AuditEvent._meta.concrete_fields if field.name not in {"id", "at"}
]


@pytest.fixture
def bound_request() -> Any:
    token = request_context.bind(
        request_context.RequestContext(request_id="req-42", client_address="203.0.113.9")
    )
    yield
    request_context.reset(token)


def _audit_values(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in AUDIT_FIELDS}


@pytest.mark.django_db
def test_issued_audit_row_is_the_one_audit_record_writes(
    signing_key, make_person, vaccination_facts, commune_officer, bound_request
):
    person = make_person()
    certificate = certificate_issue_vaccination(
        facts=vaccination_facts(person), actor=commune_officer
    )
    written = AuditEvent.objects.get(
        action="certificates.certificate.issued", object_id=str(certificate.uuid)
    )
    details = {"kind": certificate.kind, "kid": certificate.kid}
    reference = audit_record(
        actor=commune_officer,
        action="certificates.certificate.issued",
        obj=certificate,
        person_uuid=person.uuid,
        details=details,
    )
    reference.refresh_from_db()
    built = issued_audit_event(certificate=certificate, actor=commune_officer, details=details)
    assert _audit_values(written) == _audit_values(reference) == _audit_values(built)
    assert written.actor_id == commune_officer.pk and written.request_id == "req-42"


@pytest.mark.django_db
def test_an_unsaved_person_is_refused_as_save_refuses_it(
    signing_key, make_person, vaccination_facts
):
    person = copy.copy(make_person())
    person.pk = None
    with transaction.atomic():
        with pytest.raises(ValueError, match="unsaved related object 'person'"):
            certificate_issue_vaccination(facts=vaccination_facts(person))
        assert IssuedCertificate.objects.count() == 0
    assert not AuditEvent.objects.filter(action="certificates.certificate.issued").exists()


@pytest.mark.django_db
def test_retry_inside_a_transaction_writes_nothing_more(
    signing_key, make_person, vaccination_facts
):
    person = make_person()
    first = certificate_issue_vaccination(facts=vaccination_facts(person))
    again = certificate_issue_vaccination(facts=vaccination_facts(person))
    assert again.pk == first.pk
    assert AuditEvent.objects.filter(action="certificates.certificate.issued").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_issuing_is_one_statement_with_its_audit_row(
    signing_key, make_person, vaccination_facts
):
    person = make_person()
    certificate_issue_vaccination(facts=vaccination_facts(make_person()))  # signer loaded
    with CaptureQueriesContext(connection) as queries:
        certificate = certificate_issue_vaccination(facts=vaccination_facts(person))
    assert len(queries) == 1
    assert connection.get_autocommit()  # no BEGIN/COMMIT around it
    stored = IssuedCertificate.objects.get(pk=certificate.pk)
    for field in IssuedCertificate._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(certificate, field.attname), field.name
    assert not certificate._state.adding
    event = AuditEvent.objects.get(object_id=str(certificate.uuid))
    assert event.person_uuid == person.uuid
    assert event.details == {"kind": "v", "kid": signing_key.kid}
    assert event.object_type == "certificates.issuedcertificate"

    with CaptureQueriesContext(connection) as queries:
        again = certificate_issue_vaccination(facts=vaccination_facts(person))
    assert again.pk == certificate.pk
    assert len(queries) == 2  # the insert that inserts nothing, then the live one
    assert IssuedCertificate.objects.filter(person=person).count() == 1
    assert AuditEvent.objects.filter(person_uuid=person.uuid).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_no_certificate_is_stored_without_its_audit_row(
    signing_key, make_person, vaccination_facts
):
    person = make_person()
    # A request id longer than its column makes the audit half of the statement fail.
    token = request_context.bind(
        request_context.RequestContext(request_id="x" * 65, client_address=None)
    )
    try:
        with pytest.raises(DataError):
            certificate_issue_vaccination(facts=vaccination_facts(person))
    finally:
        request_context.reset(token)
    assert not IssuedCertificate.objects.filter(person=person).exists()
    assert not AuditEvent.objects.filter(person_uuid=person.uuid).exists()


def _issues(validator: Any, instance: Any) -> list[tuple[str, str, str]]:
    return sorted(
        ("/".join(str(part) for part in error.absolute_path), str(error.validator), error.message)
        for error in validator.iter_errors(instance)
    )


def _schema_cases() -> list[Any]:
    cases = [json.loads(path.read_text()) for path in sorted(SCHEMA_REPOSITORY.rglob("*.json"))]
    broken = {
        "ver": "1.3",
        "nam": {"fn": "x" * 81, "fnt": "lower"},
        "dob": "85",
        "v": [{"tg": 1, "dn": 0, "sd": "2", "dt": "2021-02-30", "co": "VNM", "ci": "y" * 81}],
        "t": [],
    }
    return [*cases, broken, {}, [], "HC1"]


def test_inlined_schema_reports_exactly_what_the_referencing_one_does():
    cases = _schema_cases()
    assert len(cases) > 40
    referencing = _validator_for(_schema_load())
    inlined = _validator()
    assert "$ref" not in json.dumps({k: v for k, v in inlined.schema.items() if k != "$defs"})
    for case in cases:
        assert _issues(inlined, case) == _issues(referencing, case)
    assert any(_issues(inlined, case) for case in cases)


@pytest.mark.parametrize(
    "node",
    [
        {"$ref": "https://example.org/other.json"},
        {"$ref": "#/$defs/missing"},
        {"$ref": "#/$defs/issuer", "maxLength": 10},
    ],
)
def test_schema_inlining_refuses_what_it_cannot_inline_faithfully(node):
    schema = {"$defs": {"issuer": {"type": "string"}}, "properties": {"is": node}}
    with pytest.raises(ValueError, match="cannot inline"):
        _references_inlined(schema)


def test_schema_inlining_refuses_a_recursive_reference():
    schema = {"$defs": {"a": {"properties": {"b": {"$ref": "#/$defs/a"}}}}, "$ref": "#/$defs/a"}
    with pytest.raises(ValueError, match="cannot inline"):
        _references_inlined(schema)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_base45_encoding_is_the_reference_packages(data):
    assert base45_encode(data) == base45.b45encode(data).decode("ascii")


@pytest.mark.django_db
def test_the_signer_kid_is_the_certificates(signing_key):
    from django.utils import timezone

    _key, signer = signer_current(now=timezone.now())
    assert signer.kid == kid_for_certificate(signer.certificate)
    assert signer.kid.hex() == signing_key.kid
    assert signer.is_development
