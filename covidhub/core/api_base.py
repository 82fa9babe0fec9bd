"""What every API router builds on, so that the contract is kept in one place.

- `Router`: every operation whose answer is a list is paged the one way
  (`?limit=&offset=` → `{items, count, next}`); no router pages, caps or slices by hand.
- `BodyIn`: the base of every request body: an unknown field is refused (422), not
  ignored, so that a misspelt field never silently does nothing.
- `choice_field`: a field whose values are a model's choices, listed as an enumeration in
  the OpenAPI document and checked on the way in.

Schema names follow `<Domain><Thing>In/Out` where a plain name could mean two things:
the document keeps one component per name (covidhub/api/tests/test_contract.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import Choices, QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja import Router as NinjaRouter
from ninja.pagination import PaginationBase, _inject_pagination
from ninja.signature.details import is_collection_type
from pydantic import ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError


class PageIn(Schema):
    """The page asked for: `?limit=&offset=`."""

    limit: int = Field(
        settings.NINJA_PAGINATION_PER_PAGE,
        ge=1,
        le=settings.API_PAGE_SIZE_MAX,
        description=f"How many items (at most {settings.API_PAGE_SIZE_MAX}).",
    )
    offset: int = Field(0, ge=0, description="How many items to skip.")


class Pagination(PaginationBase):
    """`?limit=&offset=` in, `{items, count, next}` out; `next` is null on the last page."""

    Input = PageIn  # type: ignore[assignment]

    class Output(Schema):
        items: list[Any]
        count: int = Field(description="How many items there are in all.")
        next: str | None = Field(
            description="The same request for the next page; null on the last page."
        )

    def paginate_queryset(
        self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        offset, limit = pagination.offset, pagination.limit
        count = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
        items = list(queryset[offset : offset + limit])
        following = None
        if offset + limit < count:
            query = request.GET.copy()
            query["limit"] = str(limit)
            query["offset"] = str(offset + limit)
            following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return {"items": items, "count": count, "next": following}


def _annotations_resolved(func: Callable[..., Any]) -> None:
    # The paging wrapper lives in Ninja's module, where a postponed annotation ("UUID",
    # "Query[...]") means nothing: resolve them where the view was written.
    try:
        func.__annotations__ = inspect.get_annotations(func, eval_str=True)
    except NameError:
        annotations = dict(func.__annotations__)
        annotations.pop("return", None)
        func.__annotations__ = annotations
        func.__annotations__ = inspect.get_annotations(func, eval_str=True)


class Router(NinjaRouter):
    """Ninja's router, with every list answer paged by `Pagination`."""

    def add_api_operation(
        self, path: str, methods: list[str], view_func: Callable[..., Any], **kwargs: Any
    ) -> None:
        if is_collection_type(kwargs.get("response")):
            _annotations_resolved(view_func)
            view_func = _inject_pagination(view_func, Pagination)
        super().add_api_operation(path, methods, view_func, **kwargs)


class _Choices:
    """The `json_schema_extra` of a choice field: puts the enumeration where the value is
    (the field itself, each item of a list, the non-null branch of an optional)."""

    def __init__(self, values: list[str], *, checked_here: bool) -> None:
        self.values = values
        self.checked_here = checked_here

    def __call__(self, schema: dict[str, Any]) -> None:
        if schema.get("type") == "array":
            schema["items"] = {"type": "string", "enum": self.values}
        elif "anyOf" in schema:
            for branch in schema["anyOf"]:
                if branch.get("type") == "string":
                    branch["enum"] = self.values
        else:
            schema["enum"] = self.values


def choice_field(
    choices: type[Choices] | Sequence[str],
    default: Any = ...,
    *,
    service_checks: bool = False,
    **kwargs: Any,
) -> Any:
    """A field holding one of `choices` (a model's TextChoices, or the values): an
    enumeration in the document, and on a request body a value outside it is a 422.
    For a list field the enumeration is of its items.

    `service_checks=True`: the service's own input cleaning refuses a value outside the
    set (with its own words, "Choose the sex."), together with every other bad field of
    the request; checked here it would be refused alone, before the others are looked at.
    """
    values = [str(v) for v in (choices.values if isinstance(choices, type) else choices)]  # type: ignore[attr-defined]
    extra = _Choices(values, checked_here=not service_checks)
    return Field(default, json_schema_extra=extra, **kwargs)


def _choice_values(schema: type[Schema], name: str) -> list[str] | None:
    field = schema.model_fields.get(name)
    extra = field.json_schema_extra if field is not None else None
    return extra.values if isinstance(extra, _Choices) and extra.checked_here else None


class BodyIn(Schema):
    """The base of every request body: unknown fields refused, choices checked."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _in_choices(cls, value: Any, info: ValidationInfo) -> Any:
        allowed = _choice_values(cls, info.field_name or "")
        if allowed is None or value is None:
            return value
        for item in value if isinstance(value, list) else [value]:
            if str(item) not in allowed:
                raise PydanticCustomError("enum", "Choose one of the allowed values.")
        return value
