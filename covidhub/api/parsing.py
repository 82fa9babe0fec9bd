"""Every API body and query through the one cleaning step (`covidhub.core.cleaning`).

Done in the parser rather than on each schema's fields, so that no schema, present or
future, and no free-form field (`dict[str, Any]`) can take a NUL, a lone surrogate or an
invisible character: a refused text is a 400 naming the field, every other string
arrives in NFC.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

from covidhub.core.cleaning import data_clean


class CleaningParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data: Any = data_clean(super().parse_body(request))
        return data  # type: ignore[no-any-return]

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed: Any = data_clean(super().parse_querydict(data, list_fields, request))
        return parsed  # type: ignore[no-any-return]
