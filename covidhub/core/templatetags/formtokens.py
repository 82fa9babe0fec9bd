"""`{% form_token %}`: the hidden field of `covidhub.core.formtokens` (a template builtin,
so that every form template can use it without a `{% load %}`)."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.exceptions import ImproperlyConfigured
from django.utils.safestring import SafeString

from covidhub.core.formtokens import form_token_field

register = template.Library()


@register.simple_tag(takes_context=True)
def form_token(context: dict[str, Any]) -> SafeString:
    request = context.get("request")
    if request is None:
        # A form rendered without its request would silently lose its protection.
        raise ImproperlyConfigured("{% form_token %} needs the request in the context")
    return form_token_field(request)
