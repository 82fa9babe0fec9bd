"""Validation of a health certificate payload against the EU DCC JSON schema 1.3.3.

Formats are asserted (Draft 2020-12 makes `format` an annotation unless asked): the
guidelines require complete ISO 8601 dates in dt/fr/df/du and an ISO 8601 date-time with
a UTC offset in sc, and a verifier abroad that parses them strictly would reject a lax
certificate. For sc the offset may be `Z`, `+hh`, `+hhmm` or `+hh:mm`, as the schema
repository's own valid cases (T-rat-dates1..3) require; we write `Z`.
Schema 1.3.3 accepts the 1.0.x-1.2.x payloads in the public test data unchanged, so one
schema serves issuing and verifying.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker

from .errors import PayloadInvalid
from .valuesets import DATA_DIRECTORY

SCHEMA_PATH = DATA_DIRECTORY / "DCC.combined-schema.json"
SCHEMA_VERSION = "1.3.3"
PAYLOAD_VERSION = "1.3.0"
"""The `ver` we write: 1.3.1-1.3.3 changed no validation rule that we rely on, and 1.3.0
is what verifier apps of 2022 were tested with."""

_ISO8601_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$", re.ASCII
)


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    """One schema violation: where (`a/0/b`), which keyword failed, and the message."""

    path: str
    keyword: str
    message: str


def _is_iso8601_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if not _ISO8601_DATE_TIME.fullmatch(instance):
        return False
    datetime.fromisoformat(instance.upper())
    return True


_LOCAL_DEFINITION = "#/$defs/"
_ANNOTATIONS = frozenset({"title", "description", "$comment", "examples"})


def _references_inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with each local `$ref` replaced by the definition it points to.

    Resolving a `$ref` through `referencing` costs more than checking what it points to,
    and the payload check runs for every certificate issued or verified: inlined, the
    check takes half the time. In Draft 2020-12 a `$ref` applies beside its sibling
    keywords, so `{"$ref": d, "description": x}` becomes the keywords of d with that
    `description` (only annotations may stand beside a `$ref` here; anything else is
    refused, as are remote and recursive references). The errors are the same: instance
    paths, keywords and messages do not depend on how the schema is laid out.
    """
    definitions: dict[str, Any] = schema.get("$defs", {})

    def inline(node: Any, resolving: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(item, resolving) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            reference = node["$ref"]
            name = reference.removeprefix(_LOCAL_DEFINITION)
            siblings = {key: value for key, value in node.items() if key != "$ref"}
            if (
                not reference.startswith(_LOCAL_DEFINITION)
                or name not in definitions
                or name in resolving
                or not set(siblings) <= _ANNOTATIONS
            ):
                raise ValueError(f"cannot inline the schema reference {reference!r}")
            return {**inline(definitions[name], (*resolving, name)), **siblings}
        return {key: inline(value, resolving) for key, value in node.items()}

    inlined: dict[str, Any] = inline(schema, ())
    return inlined


def _validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    format_checker = FormatChecker(formats=("date",))
    # jsonschema checks "date-time" only with the optional rfc3339-validator package;
    # a local checker keeps the assertion without another dependency.
    format_checker.checks("date-time", raises=ValueError)(_is_iso8601_date_time)
    return Draft202012Validator(schema, format_checker=format_checker)


def _schema_load() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@cache
def _validator() -> Draft202012Validator:
    return _validator_for(_references_inlined(_schema_load()))


@cache
def _fast_validator() -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(_schema_load(), validate_formats=True)


def _surely_valid(hcert: Mapping[str, Any]) -> bool:
    """True when the Rust validator finds `hcert` valid, formats asserted.

    It is a hundred times faster than `jsonschema` (14 µs against 1.4 ms), and every
    verification runs it. It is at least as strict as our checks (its `date-time` wants
    RFC 3339 offsets, where we also accept `+hh` and `+hhmm`), so "valid" here is valid;
    anything else goes to `jsonschema`, which says what is wrong in our terms. The tests
    compare both on the public test data.
    """
    try:
        return bool(_fast_validator().is_valid(hcert))
    except (ValueError, TypeError, OverflowError):
        return False


def hcert_schema_issues(hcert: Mapping[str, Any]) -> list[SchemaIssue]:
    """Every schema violation of `hcert`, deepest first; empty when it is valid."""
    if _surely_valid(hcert):
        return []
    issues = [
        SchemaIssue(
            path="/".join(str(part) for part in error.absolute_path),
            keyword=str(error.validator),
            message=error.message,
        )
        for error in _validator().iter_errors(hcert)
    ]
    return sorted(issues, key=lambda issue: (-issue.path.count("/"), issue.path))


def hcert_schema_check(hcert: Mapping[str, Any]) -> None:
    """Raise `PayloadInvalid` (code `schema_invalid`) if `hcert` breaks the schema."""
    issues = hcert_schema_issues(hcert)
    if issues:
        first = issues[0]
        raise PayloadInvalid(
            f"{first.path or '(root)'}: {first.message}",
            code="schema_invalid",
            details={"issues": [f"{issue.path}: {issue.message}" for issue in issues]},
        )
