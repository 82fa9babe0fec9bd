from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, Any]:
    return {
        "PLATFORM_NAME": settings.PLATFORM_NAME,
        "SUPPORT_PHONE": settings.SUPPORT_PHONE,
        "SHOW_DEV_OUTBOX": not settings.PRODUCTION and settings.SMS_BACKEND == "outbox",
    }
