"""Sign-in endpoints for the mobile app and "who am I"."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from ninja import Field, Schema, Status

from covidhub.accounts.api_auth import request_user
from covidhub.accounts.models import Role, User
from covidhub.accounts.scoping import actor_scope
from covidhub.accounts.services import (
    api_token_issue,
    api_token_revoke,
    phone_code_request,
    phone_code_verify,
)
from covidhub.accounts.stafftokens import staff_token_issue
from covidhub.core import request_context
from covidhub.core.api_base import BodyIn, Router, choice_field
from covidhub.core.idempotency import carries_secret
from covidhub.core.phones import phone_masked

router = Router(tags=["accounts"])


class CodeRequestIn(BodyIn):
    phone: str
    language: str = choice_field([code for code, _name in settings.LANGUAGES], "vi")


class CodeRequestOut(Schema):
    phone_masked: str
    expires_at: datetime.datetime


class CodeVerifyIn(BodyIn):
    phone: str
    code: str
    device_label: str = ""


class RoleOut(Schema):
    role: str = choice_field(Role)
    area_code: str | None = None
    unit_kind: str = ""
    unit_uuid: uuid.UUID | None = None


class MeOut(Schema):
    uuid: uuid.UUID
    kind: str = choice_field(User.Kind)
    display_name: str
    phone_masked: str | None
    language: str = choice_field([code for code, _name in settings.LANGUAGES])
    roles: list[RoleOut]


class TokenOut(Schema):
    token: str
    expires_at: datetime.datetime
    me: MeOut


def me_out(user: object) -> MeOut:
    from covidhub.accounts.models import RoleAssignment, User

    assert isinstance(user, User)
    roles = [
        RoleOut(
            role=a.role,
            area_code=a.area.code if a.area else None,
            unit_kind=a.unit_kind,
            unit_uuid=a.unit_uuid,
        )
        for a in RoleAssignment.objects.filter(user=user).select_related("area")
    ]
    return MeOut(
        uuid=user.uuid,
        kind=user.kind,
        display_name=user.display_name,
        phone_masked=phone_masked(user.phone) if user.phone else None,
        language=user.language,
        roles=roles,
    )


@router.post(
    "/auth/code", response={202: CodeRequestOut}, auth=None, summary="Send a sign-in code by SMS"
)
def code_request(request: HttpRequest, payload: CodeRequestIn) -> Status[CodeRequestOut]:
    context = request_context.current()
    language = payload.language if payload.language in ("vi", "en") else "vi"
    sent = phone_code_request(
        phone=payload.phone,
        client_address=context.client_address if context else None,
        language=language,
    )
    return Status(
        202, CodeRequestOut(phone_masked=phone_masked(sent.phone), expires_at=sent.expires_at)
    )


@router.post(
    "/auth/token", response={201: TokenOut}, auth=None, summary="Exchange a code for a token"
)
@carries_secret  # the token: a retry with the same Idempotency-Key gets 409, not the token
def code_verify(request: HttpRequest, payload: CodeVerifyIn) -> Status[TokenOut]:
    user = phone_code_verify(
        phone=payload.phone, code=payload.code, language=translation.get_language() or "vi"
    )
    issued = api_token_issue(user=user, label=payload.device_label)
    return Status(
        201, TokenOut(token=issued.token, expires_at=issued.record.expires_at, me=me_out(user))
    )


class StaffTokenIn(BodyIn):
    username: str = Field(max_length=150)
    password: str = Field(max_length=200)
    totp: str = Field(max_length=12)
    device_label: str = Field("", max_length=100)


@router.post(
    "/auth/staff/token",
    response={201: TokenOut},
    auth=None,
    summary="Staff: exchange the password and an authenticator code for a token",
)
@carries_secret  # the token: a retry with the same Idempotency-Key gets 409, not the token
def staff_token(request: HttpRequest, payload: StaffTokenIn) -> Status[TokenOut]:
    issued = staff_token_issue(
        request=request,
        username=payload.username,
        password=payload.password,
        totp=payload.totp,
        label=payload.device_label,
    )
    user = issued.record.user
    return Status(
        201, TokenOut(token=issued.token, expires_at=issued.record.expires_at, me=me_out(user))
    )


@router.post("/auth/logout", response={204: None}, summary="Revoke the token in use")
def logout(request: HttpRequest) -> Status[None]:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        api_token_revoke(user=request_user(request), token=header[7:].strip())
    return Status(204, None)


@router.get("/me", response=MeOut, summary="Who am I")
def me(request: HttpRequest) -> MeOut:
    user = request_user(request)
    actor_scope(user)
    return me_out(user)
