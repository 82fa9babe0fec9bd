"""The CertLogic validator: the issues of an expression, as the reference validator names
them (the official validation suite checks every message)."""

from __future__ import annotations

from typing import Any

from .certlogic import _INFIX, _OPERATIONS, _PATH, TIME_UNITS, _is_int


def _issue(expression: Any, message: str) -> dict[str, Any]:
    return {"expr": expression, "message": message}


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _validate_operation(expression: Any, operator: str, values: list[Any]) -> list[dict[str, Any]]:
    count = len(values)
    expected: dict[str, tuple[int, int]] = {
        "if": (3, 3),
        "!": (1, 1),
        "plusTime": (3, 3),
        "reduce": (3, 3),
        "extractFromUVCI": (2, 2),
        "dccDateOfBirth": (1, 1),
        "===": (2, 2),
        "in": (2, 2),
        "+": (2, 2),
        "and": (2, 1_000_000),
    }
    low, high = expected.get(operator, (2, 3))
    if not low <= count <= high:
        return [_issue(expression, f'wrong number of operands to a "{operator}" operation')]
    issues: list[dict[str, Any]] = []
    literals: tuple[int, ...] = ()
    if operator == "plusTime":
        literals = (1, 2)
        if not _is_int(values[1]) or type(values[1]) is bool:
            issues.append(_issue(expression, '"amount" argument (#2) must be an integer'))
        if values[2] not in TIME_UNITS:
            issues.append(_issue(expression, '"unit" argument (#3) must be a time unit'))
    elif operator == "extractFromUVCI":
        literals = (1,)
        if not _is_int(values[1]) or type(values[1]) is bool:
            issues.append(_issue(expression, '"index" argument (#2) must be an integer'))
    for position, value in enumerate(values):
        if position not in literals:
            issues += certlogic_validate(value)
    return issues


def certlogic_validate(expression: Any) -> list[dict[str, Any]]:
    """The issues of an expression (`expr`, `message`), as the reference validator names
    them; an empty list when it is a valid CertLogic expression."""
    kind = type(expression)
    if kind is str or kind is bool or kind is int:
        return []
    if kind is float:
        if expression.is_integer():
            return []
        return [_issue(expression, f"{_number_text(expression)} is a non-integer number")]
    if kind is list:
        return [issue for item in expression for issue in certlogic_validate(item)]
    if kind is not dict:
        return [_issue(expression, "invalid CertLogic expression")]
    if len(expression) != 1:
        return [
            _issue(
                expression,
                f"expression object must have exactly one key, but it has {len(expression)}",
            )
        ]
    ((operator, values),) = expression.items()
    if operator == "var":
        if not isinstance(values, str):
            return [_issue(expression, 'not of the form { "var": "<path>" }')]
        if values != "" and not _PATH.fullmatch(values):
            return [_issue(expression, f"data access path doesn't have a valid format: {values}")]
        return []
    if type(values) is not list:
        return [_issue(expression, 'operation not of the form { "<operator>": [ <values...> ] }')]
    if operator not in _INFIX and operator not in _OPERATIONS:
        return [_issue(expression, f'unrecognised operator: "{operator}"')]
    return _validate_operation(expression, operator, values)
