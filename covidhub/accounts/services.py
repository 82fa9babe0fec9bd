"""Accounts: phone sign-in codes, API tokens, staff accounts with TOTP."""

from __future__ import annotations

import copy
import datetime
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from covidhub.accounts.models import (
    AREA_ROLES,
    NATIONAL_ROLES,
    UNIT_ROLES,
    ApiToken,
    PhoneCode,
    RoleAssignment,
    User,
    unit_kinds_for,
)
from covidhub.areas.models import Area
from covidhub.core.errors import DomainError, InvalidInput, RateLimited
from covidhub.core.phones import phone_normalise
from covidhub.core.rawsql import db_values, model_rows
from covidhub.notifications.services import message_queue


class CodeInvalid(DomainError):
    code = "code_invalid"
    status = 400
    default_message = gettext_lazy("The code is wrong or has expired. Request a new code.")


def _code_hash(phone: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class CodeRequested:
    phone: str
    expires_at: datetime.datetime


def phone_code_request(*, phone: str, client_address: str | None, language: str) -> CodeRequested:
    """Send a 6-digit sign-in code by SMS; limited per phone and per client address."""
    e164 = phone_normalise(phone)
    now = timezone.now()
    hour_ago = now - datetime.timedelta(hours=1)
    with transaction.atomic():
        # Serialise requests for one phone so that the per-phone limit holds under bursts.
        User.objects.select_for_update().filter(phone=e164).first()
        recent = PhoneCode.objects.filter(phone=e164, created_at__gte=hour_ago).count()
        if recent >= settings.PHONE_CODE_MAX_PER_PHONE_PER_HOUR:
            raise RateLimited(
                _("Too many codes were requested for this phone number. Try again in an hour.")
            )
        if client_address:
            from_address = PhoneCode.objects.filter(
                client_address=client_address, created_at__gte=hour_ago
            ).count()
            if from_address >= settings.PHONE_CODE_MAX_PER_ADDRESS_PER_HOUR:
                raise RateLimited(
                    _("Too many codes were requested from this network. Try again later.")
                )
        code = f"{secrets.randbelow(1_000_000):06d}"
        # An older code stops working once a new one is sent.
        PhoneCode.objects.filter(phone=e164, used_at__isnull=True).update(used_at=now)
        record = PhoneCode.objects.create(
            phone=e164,
            code_hash=_code_hash(e164, code),
            client_address=client_address,
            expires_at=now + datetime.timedelta(seconds=settings.PHONE_CODE_TTL_SECONDS),
        )
        with translation.override(language):
            body = _(
                "%(code)s is your covidhub sign-in code. It is valid for 5 minutes. Never share it."
            ) % {"code": code}
        # The code is masked in the stored text and sealed until sent.
        message_queue(
            channel="sms", to=e164, body=body, language=language, sensitive=True, secrets=[code]
        )
    return CodeRequested(phone=e164, expires_at=record.expires_at)


def phone_code_verify(*, phone: str, code: str, language: str = "vi") -> User:
    """Check a code and return the citizen account, creating it at first sign-in."""
    e164 = phone_normalise(phone)
    entered = "".join(ch for ch in (code or "") if ch.isdigit())
    now = timezone.now()
    with transaction.atomic():
        record = (
            PhoneCode.objects.select_for_update()
            .filter(phone=e164, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if record is None:
            # A code locked by too many wrong tries is spent (used_at set): say so, rather
            # than "wrong or expired" to someone who now types the right one.
            latest = (
                PhoneCode.objects.filter(phone=e164, expires_at__gt=now)
                .order_by("-created_at")
                .values_list("attempts", flat=True)
                .first()
            )
            if latest is not None and latest >= settings.PHONE_CODE_MAX_ATTEMPTS:
                raise RateLimited(_("Too many wrong codes. Request a new code."))
            raise CodeInvalid()
        if record.attempts >= settings.PHONE_CODE_MAX_ATTEMPTS:
            raise RateLimited(_("Too many wrong codes. Request a new code."))
        wrong = len(entered) != 6 or not hmac.compare_digest(
            record.code_hash, _code_hash(e164, entered)
        )
        if wrong:
            # Counted in this transaction, which must commit: raise only after it.
            record.attempts += 1
            if record.attempts >= settings.PHONE_CODE_MAX_ATTEMPTS:
                record.used_at = now
            record.save(update_fields=["attempts", "used_at"])
    if wrong:
        if record.attempts >= settings.PHONE_CODE_MAX_ATTEMPTS:
            raise RateLimited(_("Too many wrong codes. Request a new code."))
        raise CodeInvalid()
    with transaction.atomic():
        record = PhoneCode.objects.select_for_update().get(pk=record.pk)
        if record.used_at is not None:
            raise CodeInvalid()  # a concurrent request used it first
        record.used_at = now
        record.save(update_fields=["used_at"])
        user = User.objects.filter(phone=e164).first()
        if user is None:
            try:
                with transaction.atomic():
                    user = User(
                        username=f"c-{secrets.token_hex(8)}",
                        phone=e164,
                        kind=User.Kind.CITIZEN,
                        language=language if language in ("vi", "en") else "vi",
                    )
                    user.set_unusable_password()
                    user.save()
            except IntegrityError:
                user = User.objects.get(phone=e164)
        if user.kind != User.Kind.CITIZEN or not user.is_active:
            raise CodeInvalid()
        user.last_login = now
        user.last_seen_at = now
        user.save(update_fields=["last_login", "last_seen_at"])
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


def api_token_issue(
    *, user: User, label: str = "", lifetime: datetime.timedelta | None = None
) -> IssuedToken:
    """A bearer token for the mobile app, shown once; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user=user,
        key_hash=_token_hash(token),
        prefix=token[:8],
        label=label[:100],
        expires_at=timezone.now()
        + (lifetime or datetime.timedelta(days=settings.API_TOKEN_TTL_DAYS)),
    )
    return IssuedToken(token=token, record=record)


TOKEN_TOUCH_INTERVAL = datetime.timedelta(minutes=5)
STAFF_TOKEN_TOUCH_INTERVAL = datetime.timedelta(seconds=30)


def _token_cache_key(key_hash: str) -> str:
    return f"accounts:apitoken:{key_hash}"


# This process's own copies of recently used tokens, in front of Redis, for
# AUTH_LOCAL_CACHE_SECONDS (a few seconds): a token revoked through another process stops
# working here within that time; one revoked through this process, at once.
_tokens_here: dict[str, tuple[float, tuple[Any, ...]]] = {}


def api_token_cache_clear(key_hashes: Iterable[str]) -> None:
    """Forget cached bearer tokens now and again after the transaction commits, so that a
    request racing the change cannot put the old state back for long."""
    hashes = list(key_hashes)
    for key_hash in hashes:
        _tokens_here.pop(key_hash, None)
    keys = [_token_cache_key(k) for k in hashes]
    if not keys or not settings.AUTH_CACHE_SECONDS:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def api_token_authenticate(token: str) -> User | None:
    """The active account a bearer token belongs to, or None.

    With AUTH_CACHE_SECONDS the token and its account come from the shared cache
    (one Redis GET) instead of a query; the entry is cleared when the token is revoked or
    the token or account is saved, and lives at most that many seconds in any case.
    """
    now = timezone.now()
    key_hash = _token_hash(token)
    ttl = settings.AUTH_CACHE_SECONDS
    cache_key = _token_cache_key(key_hash)
    local_ttl = settings.AUTH_LOCAL_CACHE_SECONDS if ttl else 0
    entry = None
    if local_ttl:
        here = _tokens_here.get(key_hash)
        if here is not None and here[0] > time.monotonic():
            entry = here[1]
    from_redis = False
    if entry is None and ttl:
        entry = cache.get(cache_key)
        from_redis = entry is not None
    if entry is not None:
        token_id, expires_at, last_used_at, cached_user = entry
        user: User = cached_user
        if expires_at <= now:
            return None
    else:
        # Plain (prepared) statements: a miss is every citizen's first request in a while,
        # thousands a second when a session opens for booking.
        records = model_rows(
            ApiToken,
            "key_hash = %s AND revoked_at IS NULL AND expires_at > %s",
            [key_hash, *db_values(ApiToken, "expires_at", [now])],
        )
        users = (
            model_rows(User, "id = %s AND is_active = %s", [records[0].user_id, True])
            if records
            else []
        )
        if not users:
            return None
        record, user = records[0], users[0]
        token_id, expires_at, last_used_at = record.pk, record.expires_at, record.last_used_at
    touch_interval = TOKEN_TOUCH_INTERVAL
    if user.kind == User.Kind.STAFF:
        # A staff token ends after STAFF_IDLE_SECONDS unused, as a staff session does; its
        # last use is then kept to the half minute (the session's resolution), not to five.
        idle = datetime.timedelta(seconds=settings.STAFF_IDLE_SECONDS)
        if last_used_at is not None and now - last_used_at > idle:
            api_token_cache_clear([key_hash])
            ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(revoked_at=now)
            return None
        touch_interval = min(touch_interval, STAFF_TOKEN_TOUCH_INTERVAL)
    if last_used_at is None or now - last_used_at > touch_interval:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
        User.objects.filter(pk=user.pk).update(last_seen_at=now)
        last_used_at = now
        entry = None  # store the new last use
    if ttl and entry is None:
        entry = (token_id, expires_at, last_used_at, user)
        cache.set(cache_key, entry, ttl)
        from_redis = True
    if local_ttl and from_redis and entry is not None:
        if len(_tokens_here) > 100_000:
            _tokens_here.clear()
        _tokens_here[key_hash] = (time.monotonic() + local_ttl, entry)
    # A copy: views may set attributes on request.user; the cached one stays as loaded.
    return copy.copy(user) if local_ttl else user


def api_token_revoke(*, user: User, token: str | None = None, token_id: int | None = None) -> int:
    qs = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    if token is not None:
        qs = qs.filter(key_hash=_token_hash(token))
    elif token_id is not None:
        qs = qs.filter(pk=token_id)
    api_token_cache_clear(qs.values_list("key_hash", flat=True))
    return qs.update(revoked_at=timezone.now())


def api_tokens_revoke_all(*, user: User) -> int:
    """Every live token of an account (it was disabled)."""
    qs = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    api_token_cache_clear(qs.values_list("key_hash", flat=True))
    return qs.update(revoked_at=timezone.now())


@transaction.atomic
def staff_create(
    *, username: str, password: str, display_name: str, email: str = "", language: str = "vi"
) -> User:
    """A staff account; it cannot be used before a TOTP device is confirmed."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    if User.objects.filter(username=username).exists():
        raise InvalidInput(details={"fields": {"username": [_("This username is taken.")]}})
    user = User(
        username=username,
        kind=User.Kind.STAFF,
        display_name=display_name,
        email=email,
        language=language,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(details={"fields": {"password": list(exc.messages)}}) from exc
    user.set_password(password)
    user.save()
    return user


def role_scope_check(
    *,
    user: User,
    role: str,
    area: Area | None = None,
    unit_kind: str = "",
    unit_uuid: uuid.UUID | None = None,
) -> None:
    """The one rule for who may hold a role where (the admin's role form checks it too)."""
    if user.kind != User.Kind.STAFF:
        raise InvalidInput(_("Only staff accounts can hold roles."))
    if role in AREA_ROLES:
        if area is None or area.level != AREA_ROLES[role]:
            raise InvalidInput(_("This role must be given for an area of the right level."))
    elif role in NATIONAL_ROLES:
        if area is not None or unit_uuid is not None:
            raise InvalidInput(
                _("A national role covers every served province: give it without an area.")
            )
    elif role in UNIT_ROLES:
        if unit_uuid is None or unit_kind not in unit_kinds_for(role):
            raise InvalidInput(
                _("This role must be given for a unit (site, laboratory or agency).")
            )
    else:
        raise InvalidInput(_("Unknown role."))


def role_assign(
    *,
    user: User,
    role: str,
    area: Area | None = None,
    unit_kind: str = "",
    unit_uuid: uuid.UUID | None = None,
    granted_by: User | None = None,
) -> RoleAssignment:
    """Give a staff member a role in an area of the right level, in one unit, or (a national
    role) in every served province."""
    role_scope_check(user=user, role=role, area=area, unit_kind=unit_kind, unit_uuid=unit_uuid)
    if role in AREA_ROLES or role in NATIONAL_ROLES:
        assignment, _created = RoleAssignment.objects.get_or_create(
            user=user, role=role, area=area, unit_uuid=None, defaults={"granted_by": granted_by}
        )
        return assignment
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user,
        role=role,
        area=area,
        unit_uuid=unit_uuid,
        defaults={"unit_kind": unit_kind, "granted_by": granted_by},
    )
    return assignment


def totp_device_create(
    *, user: User, key_hex: str | None = None, confirmed: bool = False
) -> TOTPDevice:
    """A TOTP device for a staff member (unconfirmed until they enter a first code)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    kwargs = {"key": key_hex} if key_hex else {}
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=confirmed, **kwargs)
