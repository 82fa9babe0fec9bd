"""Certificates API: the citizen's certificates and status, verification for staff, the
public trust and revocation lists, and administration (revocation, status rules)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Schema

from covidhub.accounts.api_auth import any_auth, citizen_auth, request_user, staff_auth
from covidhub.accounts.models import Role
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, primary_role
from covidhub.audit.services import audit_record
from covidhub.certificates import acceptance, formats, selectors, services, status_rules
from covidhub.certificates.acceptance import acceptance_rules_document
from covidhub.certificates.models import AcceptanceRuleSet, IssuedCertificate, StatusRuleSet
from covidhub.certificates.pdf import PDF_SIZES, certificate_pdf
from covidhub.certificates.value_sets import value_sets_document
from covidhub.certificates.verification import certificate_verify
from covidhub.core.api_base import BodyIn, Router, choice_field
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.people.selectors import person_get_for_actor

router = Router(tags=["certificates"])

ADMIN_ROLES = (Role.ADMINISTRATOR,)
RULE_ROLES = (Role.ADMINISTRATOR, Role.PROVINCE_OFFICER)


class CertificateOut(Schema):
    uuid: UUID
    person_uuid: UUID
    kind: str = choice_field(IssuedCertificate.Kind)
    uvci: str
    issued_at: datetime
    expires_at: datetime
    revoked: bool
    hc1: str | None = None

    @staticmethod
    def of(certificate: IssuedCertificate, *, with_hc1: bool = False) -> dict[str, Any]:
        return {
            "uuid": certificate.uuid,
            "person_uuid": certificate.person.uuid,
            "kind": certificate.kind,
            "uvci": certificate.uvci,
            "issued_at": certificate.issued_at,
            "expires_at": certificate.expires_at,
            "revoked": certificate.revoked_at is not None,
            "hc1": certificate.hc1 if with_hc1 else None,
        }


class CertificateStatusOut(Schema):
    person_uuid: UUID
    colour: str = choice_field([status_rules.GREEN, status_rules.YELLOW, status_rules.RED])
    reason: str
    rules_version: int
    admit: bool = Field(description="False: a checkpoint will not check this person in")


class PersonCertificatesOut(Schema):
    person_uuid: UUID
    full_name: str
    status: CertificateStatusOut
    certificates: list[CertificateOut]


def _require(request: HttpRequest, roles: tuple[str, ...]) -> Any:
    user = request_user(request)
    if not actor_scope(user).has_role(*roles):
        raise NotFound()
    return user


@router.get("/mine", response=list[PersonCertificatesOut], auth=citizen_auth)
def my_certificates(request: HttpRequest) -> list[dict[str, Any]]:
    """The signed-in citizen's and their family's live certificates and status cards."""
    user = request_user(request)
    rows = []
    household = selectors.household_certificates(account=user)
    cards = status_rules.people_status(people=[person for person, _certificates in household])
    for person, certificates in household:
        status = cards[person.pk]
        rows.append(
            {
                "person_uuid": person.uuid,
                "full_name": person.full_name,
                "status": {"person_uuid": person.uuid, **status.__dict__},
                "certificates": [CertificateOut.of(c) for c in certificates],
            }
        )
    return rows


@router.get("/{uuid:certificate_uuid}", response=CertificateOut, auth=any_auth)
def certificate_detail(request: HttpRequest, certificate_uuid: UUID) -> dict[str, Any]:
    """One certificate with its QR text (HC1)."""
    certificate = selectors.certificate_get_for_actor(
        actor=request_user(request), certificate_uuid=certificate_uuid
    )
    return CertificateOut.of(certificate, with_hc1=True)


@router.get(
    "/certificates/{uuid:certificate_uuid}",
    response=CertificateOut,
    auth=any_auth,
    deprecated=True,
    summary="Deprecated alias of GET /certificates/{certificate_uuid} (removed in 1.2)",
)
def certificate_detail_deprecated(request: HttpRequest, certificate_uuid: UUID) -> dict[str, Any]:
    """The path of API 1.0, with its doubled prefix."""
    return certificate_detail(request, certificate_uuid)


@router.get("/{uuid:certificate_uuid}/pdf", auth=any_auth, response={200: None})
def certificate_pdf_download(
    request: HttpRequest, certificate_uuid: UUID, size: Literal["a4", "card"] = "a4"
) -> HttpResponse:
    """The certificate as a PDF: `size` is `a4` or `card` (wallet card)."""
    return _certificate_pdf(request, certificate_uuid, size)


@router.get(
    "/certificates/{uuid:certificate_uuid}/pdf",
    auth=any_auth,
    response={200: None},
    deprecated=True,
    summary="Deprecated alias of GET /certificates/{certificate_uuid}/pdf (removed in 1.2)",
)
def certificate_pdf_download_deprecated(
    request: HttpRequest, certificate_uuid: UUID, size: Literal["a4", "card"] = "a4"
) -> HttpResponse:
    """The path of API 1.0, with its doubled prefix."""
    return _certificate_pdf(request, certificate_uuid, size)


def _certificate_pdf(request: HttpRequest, certificate_uuid: UUID, size: str) -> HttpResponse:
    if size not in PDF_SIZES:
        raise InvalidInput(details={"fields": {"size": ["a4, card"]}})
    certificate = selectors.certificate_get_for_actor(
        actor=request_user(request), certificate_uuid=certificate_uuid
    )
    response = HttpResponse(
        certificate_pdf(certificate=certificate, size=size),  # type: ignore[arg-type]
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="certificate-{size}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


class CertificateHealthCardOut(Schema):
    jws: str = Field(description="Compact JWS (ES256, raw-DEFLATE payload)")
    qr: list[str] = Field(description="`shc:/` texts: one per QR code (several if chunked)")
    kid: str
    issuer: str = Field(description="`iss`: its /.well-known/jwks.json has the public keys")


@router.get(
    "/{uuid:certificate_uuid}/health-card", response=CertificateHealthCardOut, auth=any_auth
)
def certificate_health_card(request: HttpRequest, certificate_uuid: UUID) -> dict[str, Any]:
    """A vaccination certificate as a SMART Health Card (404 for test and recovery)."""
    certificate = selectors.certificate_get_for_actor(
        actor=request_user(request), certificate_uuid=certificate_uuid
    )
    card = formats.certificate_health_card(certificate=certificate)
    return {"jws": card.jws, "qr": card.qr_texts, "kid": card.kid, "issuer": formats.issuer_url()}


@router.get(
    "/certificates/{uuid:certificate_uuid}/health-card",
    response=CertificateHealthCardOut,
    auth=any_auth,
    deprecated=True,
    summary="Deprecated alias of GET /certificates/{certificate_uuid}/health-card (removed in 1.2)",
)
def certificate_health_card_deprecated(
    request: HttpRequest, certificate_uuid: UUID
) -> dict[str, Any]:
    """The doubled prefix of API 1.0."""
    return certificate_health_card(request, certificate_uuid)


@router.get("/{uuid:certificate_uuid}/ddcc-vs", auth=any_auth)
def certificate_ddcc_vs(request: HttpRequest, certificate_uuid: UUID) -> HttpResponse:
    """A vaccination certificate as a WHO DDCC:VS FHIR document (Bundle of type document)."""
    certificate = selectors.certificate_get_for_actor(
        actor=request_user(request), certificate_uuid=certificate_uuid
    )
    document = formats.certificate_ddcc_vs(certificate=certificate)
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False), content_type=formats.FHIR_CONTENT_TYPE
    )
    response["Cache-Control"] = "private, no-store"
    return response


@router.get(
    "/certificates/{uuid:certificate_uuid}/ddcc-vs",
    auth=any_auth,
    deprecated=True,
    summary="Deprecated alias of GET /certificates/{certificate_uuid}/ddcc-vs (removed in 1.2)",
)
def certificate_ddcc_vs_deprecated(request: HttpRequest, certificate_uuid: UUID) -> HttpResponse:
    """The doubled prefix of API 1.0."""
    return certificate_ddcc_vs(request, certificate_uuid)


@router.get("/status/{person_uuid}", response=CertificateStatusOut, auth=any_auth)
def person_status(request: HttpRequest, person_uuid: UUID) -> dict[str, Any]:
    """A person's status card: own household for citizens, own area for officers."""
    user = request_user(request)
    person = person_get_for_actor(
        actor=user, person_uuid=person_uuid, action="certificates.status.viewed"
    )
    status = status_rules.person_status(person=person)
    return {"person_uuid": person.uuid, **status.__dict__}


Purpose = Literal["venue", "event", "travel"]


class CertificateVerifyIn(BodyIn):
    text: str = Field(..., max_length=10_000)
    purpose: Purpose = Field("venue", description="Which acceptance rules to apply")


class VerifyRuleOut(Schema):
    identifier: str
    status: Literal["passed", "failed", "open"]
    description: str = Field(description="In the reader's language (Accept-Language)")
    values: str


class CertificateVerifyOut(Schema):
    valid: bool
    reason: str
    message: str
    failures: list[str]
    certificate_type: str | None
    family_name: str
    given_name: str
    date_of_birth: str
    expires_at: datetime | None
    uvci: str | None
    kid: str | None
    verdict: Literal["accepted", "refused", "open", "invalid"] = Field(
        description="`valid` is the cryptographic result; the verdict adds the rules"
    )
    verdict_message: str
    purpose: str
    rules_version: int | None
    value_sets_version: str | None
    rules: list[VerifyRuleOut]
    notes: list[str]


@router.post("/verify", response=CertificateVerifyOut, auth=staff_auth)
def verify(request: HttpRequest, payload: CertificateVerifyIn) -> dict[str, Any]:
    """Verify a scanned QR text (online path of the verifier). Never an error for bad text:
    the answer says why a certificate is refused (`reason`, translated `message`)."""
    user = request_user(request)
    outcome = certificate_verify(text=payload.text, purpose=payload.purpose)
    verification_audit(actor=user, outcome_reason=outcome.reason, uvci=outcome.uvci)
    return {
        "verdict": outcome.verdict,
        "verdict_message": outcome.verdict_message,
        "purpose": outcome.purpose,
        "rules_version": outcome.rules_version,
        "value_sets_version": outcome.value_sets_version,
        "rules": [line._asdict() for line in outcome.rules],
        "notes": list(outcome.notes),
        "valid": outcome.valid,
        "reason": outcome.reason,
        "message": outcome.message,
        "failures": [str(reason) for reason in outcome.result.failures],
        "certificate_type": outcome.certificate_type,
        "family_name": outcome.family_name,
        "given_name": outcome.given_name,
        "date_of_birth": outcome.date_of_birth,
        "expires_at": outcome.expires_at,
        "uvci": outcome.uvci,
        "kid": outcome.kid,
    }


def verification_audit(*, actor: Any, outcome_reason: str, uvci: str | None) -> None:
    """A verification shows a person's data: audit it, linked to the person if ours."""
    person_uuid = None
    if uvci:
        person_uuid = (
            IssuedCertificate.objects.filter(uvci=uvci)
            .values_list("person__uuid", flat=True)
            .first()
        )
    with transaction.atomic():
        audit_record(
            actor=actor,
            actor_role=primary_role(actor_scope(actor)),
            action="certificates.certificate.verified",
            person_uuid=person_uuid,
            details={"reason": outcome_reason},
        )


@router.get("/trust-list", auth=None)
def trust_list(request: HttpRequest) -> dict[str, Any]:
    """The public trust list (DSCs with kid, validity, certificate and SPKI public key)."""
    return selectors.trust_list_document()


@router.get("/revocations", auth=None)
def revocation_list(request: HttpRequest) -> dict[str, Any]:
    """The public revocation list: SHA-256 of revoked UVCIs (upper case) and revoked kids."""
    return selectors.revocation_list_document()


@router.get("/value-sets", auth=None)
def value_sets(request: HttpRequest) -> dict[str, Any]:
    """The EU DCC value sets in force (by valueSetId), with the release version and dates."""
    return value_sets_document()


@router.get("/acceptance-rules", auth=None)
def acceptance_rules(request: HttpRequest) -> dict[str, Any]:
    """The acceptance rules in force per purpose (venue, event, travel): EU-format
    validation rules in CertLogic, with their version."""
    return acceptance_rules_document()


class CertificateRevokeIn(BodyIn):
    uvci: str = Field(..., min_length=10, max_length=80)
    reason: str = Field(..., min_length=3, max_length=200)


class CertificateRevokeOut(Schema):
    uvci: str
    revoked: bool


@router.post("/revocations", response=CertificateRevokeOut, auth=staff_auth)
def revoke(request: HttpRequest, payload: CertificateRevokeIn) -> dict[str, Any]:
    """Revoke one certificate by UVCI (administrators)."""
    user = _require(request, ADMIN_ROLES)
    revocation = services.uvci_revoke(uvci=payload.uvci, reason=payload.reason, actor=user)
    return {"uvci": revocation.value, "revoked": True}


MeasureColour = Literal["red", "yellow", "off"]


class StatusRulesIn(BodyIn):
    green_full_series_days: int = 14
    green_recovery_days: int = 180
    green_negative_test_hours: int = 0
    yellow_one_dose: bool = True
    yellow_negative_test_hours: int = 72
    case_colour: MeasureColour = "red"
    case_days: int = 14
    isolation_colour: MeasureColour = "red"
    isolation_days: int = 14
    retest_colour: MeasureColour = "red"
    retest_days: int = 7
    refuse_checkin: bool = True
    checkpoint_names_measure: bool = False
    note: str = Field("", max_length=200)


class StatusRulesOut(Schema):
    version: int
    state: str = choice_field(StatusRuleSet.State)
    rules: dict[str, Any]
    note: str


class StatusRulesPreviewOut(Schema):
    people: int
    changed: int
    current: dict[str, int]
    candidate: dict[str, int]
    transitions: dict[str, int]


@router.get("/status-rules", response=list[StatusRulesOut], auth=staff_auth)
def rules_list(request: HttpRequest) -> QuerySet[StatusRuleSet]:
    _require(request, (*RULE_ROLES, *OFFICER_ROLES))
    return StatusRuleSet.objects.order_by("-version")


@router.post("/status-rules", response={201: StatusRulesOut}, auth=staff_auth)
def rules_draft(request: HttpRequest, payload: StatusRulesIn) -> tuple[int, Any]:
    """A new draft version of the status rules (administrators, province officers)."""
    user = _require(request, RULE_ROLES)
    data = payload.dict()
    note = data.pop("note")
    rules = status_rules.status_rules_clean(data)
    return 201, status_rules.status_rules_draft_create(actor=user, rules=rules, note=note)


@router.get("/status-rules/{version}/preview", response=StatusRulesPreviewOut, auth=staff_auth)
def rules_preview(request: HttpRequest, version: int) -> dict[str, Any]:
    """How many people in the officer's areas would change colour under this version."""
    user = _require(request, (*RULE_ROLES, *OFFICER_ROLES))
    row = status_rules.status_rules_get(version=version)
    preview = status_rules.status_rules_preview(
        actor=user, candidate=status_rules.status_rules_clean(row.rules)
    )
    return {**preview.__dict__, "changed": preview.changed}


@router.post("/status-rules/{version}/activate", response=StatusRulesOut, auth=staff_auth)
def rules_activate(request: HttpRequest, version: int) -> Any:
    user = _require(request, RULE_ROLES)
    row = status_rules.status_rules_get(version=version)
    return status_rules.status_rules_activate(actor=user, rule_set=row)


class AcceptanceRulesIn(BodyIn):
    rules: list[dict[str, Any]] = Field(
        ..., max_length=200, description="EU-format validation rules (CertLogic)"
    )
    note: str = Field("", max_length=200)


class AcceptanceRulesOut(Schema):
    purpose: str = choice_field(AcceptanceRuleSet.Purpose)
    version: int
    state: str = choice_field(AcceptanceRuleSet.State)
    rules: list[dict[str, Any]]
    note: str


class AcceptancePreviewOut(Schema):
    certificates: int
    changed: int
    current: dict[str, int]
    candidate: dict[str, int]
    transitions: dict[str, int]


@router.get(
    "/acceptance-rules/{purpose}/versions", response=list[AcceptanceRulesOut], auth=staff_auth
)
def acceptance_rules_versions(
    request: HttpRequest, purpose: Purpose
) -> QuerySet[AcceptanceRuleSet]:
    """Every stored version of a purpose's acceptance rules, newest first."""
    _require(request, (*RULE_ROLES, *OFFICER_ROLES))
    return AcceptanceRuleSet.objects.filter(purpose=purpose).order_by("-version")


@router.post("/acceptance-rules/{purpose}", response={201: AcceptanceRulesOut}, auth=staff_auth)
def acceptance_rules_draft(
    request: HttpRequest, purpose: Purpose, payload: AcceptanceRulesIn
) -> tuple[int, Any]:
    """A new draft version of a purpose's rules (administrators, province officers)."""
    user = _require(request, RULE_ROLES)
    row = acceptance.acceptance_rules_draft_create(
        actor=user, purpose=purpose, documents=payload.rules, note=payload.note
    )
    return 201, row


@router.get(
    "/acceptance-rules/{purpose}/{version}/preview",
    response=AcceptancePreviewOut,
    auth=staff_auth,
)
def acceptance_rules_preview(request: HttpRequest, purpose: Purpose, version: int) -> Any:
    """How many live certificates in the officer's areas each version would accept."""
    user = _require(request, (*RULE_ROLES, *OFFICER_ROLES))
    row = acceptance.acceptance_rules_get(purpose=purpose, version=version)
    preview = acceptance.acceptance_rules_preview(
        actor=user, purpose=purpose, candidate=acceptance.acceptance_rules_clean(row.rules)
    )
    return {**preview.__dict__, "changed": preview.changed}


@router.post(
    "/acceptance-rules/{purpose}/{version}/activate",
    response=AcceptanceRulesOut,
    auth=staff_auth,
)
def acceptance_rules_activate(request: HttpRequest, purpose: Purpose, version: int) -> Any:
    user = _require(request, RULE_ROLES)
    row = acceptance.acceptance_rules_get(purpose=purpose, version=version)
    return acceptance.acceptance_rules_activate(actor=user, rule_set=row)
