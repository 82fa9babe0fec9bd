"""CertLogic: the JSON rule language of the EU DCC business rules (specification 1.3.3).

Written here because the PyPI implementation we checked (panzi-json-logic 1.0.1) fails
25 of the official cases (no `dccDateOfBirth`, no partial dates in `plusTime`); this one
passes every case of the official evaluation and validation suites, including the ones
marked "skip" (a null-safe `in`, and `reduce` that sees the outer data as `data`, which
the specification allows).

An expression is compiled once into nested closures (`certlogic_compile`) and then run
on many data contexts: a verifier evaluates the same twenty rules for every scan, and
walking the JSON again each time would cost more than the signature check. Evaluation
raises `CertLogicError` for an invalid expression or a type mismatch, exactly where the
reference implementation throws; a rule engine turns that into an "open" rule outcome.
Invalid sub-expressions compile to a closure that raises when reached, so that an
expression behaves as the reference evaluator does, which only fails on what it visits.

A rule set runs as one program (`certlogic_program`): the source of one Python function
for all its expressions, compiled once per rule set, giving what the closures give
(tests/test_certlogic_program compares them on every suite case and on made-up data).
"""

from __future__ import annotations

import calendar
import operator
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

type Evaluator = Callable[[Any], Any]

TIME_UNITS: Final = ("year", "month", "day", "hour")
_COMPARISONS: Final = frozenset({"<", ">", "<=", ">="})
_DATE_COMPARISONS: Final = {"after": ">", "before": "<", "not-after": "<=", "not-before": ">="}
_INFIX: Final = frozenset({"===", "and", "in", "+", *_COMPARISONS, *_DATE_COMPARISONS})
_PATH: Final = re.compile(r"^[^.]+(?:\.[^.]+)*$")
_DATE_TIME: Final = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{1,2}(?::?\d{2})?)?)?)?)?$"
)
_UVCI_SEPARATORS: Final = re.compile(r"[/#:]")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class CertLogicError(Exception):
    """An invalid expression, or an operation applied to operands of the wrong type."""


class DateTime:
    """A CertLogic date-time: milliseconds since the epoch, UTC (what JavaScript's `Date`
    holds). A distinct type, so that integers and date-times never compare."""

    __slots__ = ("ms",)

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __repr__(self) -> str:
        return f"DateTime({self.isoformat()})"

    def isoformat(self) -> str:
        moment = _EPOCH + timedelta(milliseconds=self.ms)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.ms % 1000:03d}Z"


# Values ----------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    kind = type(value)
    return kind is int or (kind is float and value.is_integer())  # type: ignore[attr-defined]


def is_truthy(value: object) -> bool:
    """CertLogic truthiness: neither this nor `is_falsy` holds for e.g. a date-time.

    Arrays in the data are lists, or lists of a subclass (a value set's `CodeList`)."""
    if value is True:
        return True
    kind = type(value)
    if kind is str or kind is dict or isinstance(value, list):
        return len(value) > 0  # type: ignore[arg-type]
    return _is_int(value) and value != 0


def is_falsy(value: object) -> bool:
    if value is False or value is None:
        return True
    kind = type(value)
    if kind is str or kind is dict or isinstance(value, list):
        return len(value) == 0  # type: ignore[arg-type]
    return _is_int(value) and value == 0


def _strictly_equal(left: object, right: object) -> bool:
    """JavaScript's `===` on JSON values: by value for primitives, by identity otherwise."""
    if left is None or right is None:
        return left is right
    if type(left) is bool or type(right) is bool:
        return type(left) is type(right) and left == right
    if isinstance(left, str) or isinstance(right, str):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return left is right


# Dates -----------------------------------------------------------------------------------


def _from_parts(year: int, month: int, day: int, millis_of_day: int) -> int:
    """Milliseconds since the epoch; `month` may leave 1-12 and `day` the month (the
    JavaScript `Date.UTC` overflow, which `plusTime` relies on)."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    days = (datetime(year, month, 1, tzinfo=UTC) - _EPOCH).days + day - 1
    return days * 86_400_000 + millis_of_day


def _offset_minutes(text: str | None) -> int:
    if text is None or text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    if ":" in text:
        hours, minutes = text[1:].split(":")
    elif len(digits) <= 2:
        hours, minutes = digits, "0"
    else:
        hours, minutes = digits[:-2], digits[-2:]
    return sign * (int(hours) * 60 + int(minutes))


_PARSED_MAX: Final = 4096
_parsed: dict[str, int] = {}
_RECENT_MAX: Final = 16
_recent: dict[str, int] = {}
"""Texts written by `date_time_text` (validation clocks, issue and expiry times), with
their milliseconds: a new clock per scan, kept apart so that they do not crowd out the
dates certificates share, nor keep a string alive per scan in `_parsed`."""
# The text of each moment written lately, by the moment (equal moments, whatever their
# zone, have one text): a few certificates' `iat` and `exp`, among validation clocks.
_TEXTS_MAX: Final = 64
_texts: dict[datetime, str] = {}


def _parse(text: str) -> int:
    """The milliseconds of a date or date-time text, remembered (certificates share
    their dates; a validation clock is known from `date_time_text`)."""
    ms = _parsed.get(text)
    if ms is None:
        ms = _recent.get(text)
        if ms is not None:
            return ms
        ms = _parse_text(text)
        if len(_parsed) >= _PARSED_MAX:
            _parsed.clear()
        _parsed[text] = ms
    return ms


def date_time_text(moment: datetime) -> str:
    """`moment` (timezone-aware) as the UTC date-time text the EU verifier apps give
    CertLogic (`2021-06-01T10:00:00.123456Z`), its milliseconds known already: a
    verifier passes a new validation clock with every scan, and parsing it again in the
    rules cost more than writing it. A certificate's own moments (`iat`, `exp`), given
    again on every scan of it, are written once."""
    text = _texts.get(moment)
    if text is None:
        utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
        # The naive moment's text and "Z": the same text, written without the offset
        # (which cost an aware datetime's `isoformat` as much again).
        text = utc.replace(tzinfo=None).isoformat() + "Z"
        if len(_texts) >= _TEXTS_MAX:
            _texts.clear()
        _texts[moment] = text
    if text not in _recent:
        if len(_recent) >= _RECENT_MAX:
            _recent.clear()
        # As `_parse_text` reads the text: the fraction cut to milliseconds.
        since = moment - _EPOCH
        _recent[text] = since.days * 86_400_000 + since.seconds * 1000 + since.microseconds // 1000
    return text


def _parse_text(text: str) -> int:
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise CertLogicError(f"not an allowed date or date-time format: {text}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        if month is None:
            return _from_parts(int(year), 12, 31, 0)
        if day is None:
            last = calendar.monthrange(int(year), int(month))[1]
            return _from_parts(int(year), int(month), last, 0)
        datetime(int(year), int(month), int(day), tzinfo=UTC)  # refuses 2021-02-30
    except ValueError as error:
        raise CertLogicError(f"not a calendar date: {text}") from error
    millis = 0
    if hour is not None:
        millis = ((int(hour) * 60 + int(minute)) * 60 + int(second)) * 1000
        millis += int((fraction or "0")[:3].ljust(3, "0"))
        millis -= _offset_minutes(offset) * 60_000
    return _from_parts(int(year), int(month), int(day), millis)


def date_time_parse(text: str) -> DateTime:
    """A date or date-time string as `plusTime` reads it (a missing offset is UTC)."""
    return DateTime(_parse(text))


def plus_time(text: str, amount: int, unit: str) -> DateTime:
    """`plusTime`: JavaScript's `setUTC<Unit>(getUTC<Unit>() + amount)` on the parsed text."""
    ms = _parse(text)
    if unit == "day":
        return DateTime(ms + amount * 86_400_000)
    if unit == "hour":
        return DateTime(ms + amount * 3_600_000)
    moment = _EPOCH + timedelta(milliseconds=ms)
    millis_of_day = ms % 86_400_000
    if unit == "month":
        return DateTime(_from_parts(moment.year, moment.month + amount, moment.day, millis_of_day))
    return DateTime(_from_parts(moment.year + amount, moment.month, moment.day, millis_of_day))


def dcc_date_of_birth(text: str) -> DateTime:
    """`dccDateOfBirth`: the last moment consistent with a partial date of birth."""
    if not re.fullmatch(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", text):
        raise CertLogicError(f"not a DCC date of birth: {text}")
    return DateTime(_parse(text))


def extract_from_uvci(uvci: str | None, index: int) -> str | None:
    if uvci is None or index < 0:
        return None
    fragments = _UVCI_SEPARATORS.split(uvci.removeprefix("URN:UVCI:"))
    return fragments[index] if index < len(fragments) else None


# Compilation -----------------------------------------------------------------------------


def _failing(message: str) -> Evaluator:
    def evaluate(_data: Any) -> Any:
        raise CertLogicError(message)

    return evaluate


def _constant(value: Any) -> Evaluator:
    return lambda _data: value


def _compile_var(path: object) -> Evaluator:
    if not isinstance(path, str):
        return _failing('not of the form { "var": "<path>" }')
    if path == "":
        return lambda data: data
    fragments = tuple((part, int(part) if part.isdigit() else None) for part in path.split("."))
    if all(index is None for _key, index in fragments) and len(fragments) <= 3:
        # The common paths ("external.validationClock", "payload.dob") without the loop.
        return _var_keys(*(key for key, _index in fragments))
    index = fragments[2][1] if len(fragments) == 4 else None
    if index is not None and fragments[3][1] is None:
        # The shape of every entry field of a DCC: "payload.v.0.dt".
        return _var_entry_field(
            fragments[0][0], fragments[1][0], (fragments[2][0], index), fragments[3][0]
        )

    def evaluate(data: Any) -> Any:
        value = data
        for key, index in fragments:
            if type(value) is dict:
                value = value.get(key)
            elif isinstance(value, list) and index is not None:
                value = value[index] if index < len(value) else None
            else:
                return None
        return value

    return evaluate


def _var_keys(first: str, second: str | None = None, third: str | None = None) -> Evaluator:
    """A path of one to three object keys: the same walk as the loop above, unrolled."""
    if second is None:
        return lambda data: data.get(first) if type(data) is dict else None

    def evaluate(data: Any) -> Any:
        if type(data) is not dict:
            return None
        value = data.get(first)
        if type(value) is not dict:
            return None
        value = value.get(second)
        if third is None:
            return value
        return value.get(third) if type(value) is dict else None

    return evaluate


def _var_entry_field(first: str, second: str, third: tuple[str, int], fourth: str) -> Evaluator:
    """A path key.key.index.key: the same walk as the loop in `_compile_var`, unrolled."""
    key, index = third

    def evaluate(data: Any) -> Any:
        if type(data) is not dict:
            return None
        value = data.get(first)
        if type(value) is not dict:
            return None
        value = value.get(second)
        if isinstance(value, list):
            value = value[index] if index < len(value) else None
        elif type(value) is dict:
            value = value.get(key)
        else:
            return None
        return value.get(fourth) if type(value) is dict else None

    return evaluate


def _compile_if(values: list[Any]) -> Evaluator:
    if len(values) < 3:
        return _failing("an if-operation must have a guard, a then and an else")
    guard, then, otherwise = (_compile(value) for value in values[:3])

    def evaluate(data: Any) -> Any:
        value = guard(data)
        if is_truthy(value):
            return then(data)
        if is_falsy(value):
            return otherwise(data)
        raise CertLogicError("if-guard evaluates to something neither truthy, nor falsy")

    return evaluate


def _compile_and(operands: list[Evaluator]) -> Evaluator:
    def evaluate(data: Any) -> Any:
        accumulator: Any = True
        for operand in operands:
            if is_falsy(accumulator):
                return accumulator
            if not is_truthy(accumulator):
                raise CertLogicError("an and-operand is neither truthy, nor falsy")
            accumulator = operand(data)
        return accumulator

    return evaluate


_COMPARE: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def _compile_comparison(symbol: str, operands: list[Evaluator], *, dates: bool) -> Evaluator:
    compare = _COMPARE[_DATE_COMPARISONS[symbol] if dates else symbol]
    message = (
        "all operands of a date-time comparison must be date-times"
        if dates
        else "all operands of a comparison operation must be of integer type"
    )

    def date_of(evaluate: Evaluator, data: Any) -> int:
        value = evaluate(data)
        if type(value) is not DateTime:
            raise CertLogicError(message)
        return value.ms

    def integer_of(evaluate: Evaluator, data: Any) -> Any:
        value = evaluate(data)
        if not _is_int(value) or type(value) is bool:
            raise CertLogicError(message)
        return value

    if dates and len(operands) == 2:
        # The usual rule ("not-before": [clock, plusTime(dt, 14, "day")]), inlined: each
        # operand is checked as soon as it is evaluated, as the reference does.
        first, second = operands

        def evaluate_dates(data: Any) -> bool:
            a = first(data)
            if type(a) is not DateTime:
                raise CertLogicError(message)
            b = second(data)
            if type(b) is not DateTime:
                raise CertLogicError(message)
            return compare(a.ms, b.ms)

        return evaluate_dates
    value_of = date_of if dates else integer_of
    if len(operands) == 2:
        first, second = operands

        def evaluate_two(data: Any) -> bool:
            return compare(value_of(first, data), value_of(second, data))

        return evaluate_two
    first, second, third = operands

    def evaluate_three(data: Any) -> bool:
        a, b, c = value_of(first, data), value_of(second, data), value_of(third, data)
        return compare(a, b) and compare(b, c)

    return evaluate_three


def _compile_in(needle: Evaluator, haystack: Evaluator) -> Evaluator:
    def evaluate(data: Any) -> bool:
        values = haystack(data)
        if values is None:
            return False  # null-safe, as the official suite's "skip" cases ask
        if not isinstance(values, list):  # a `CodeList` value set is a list too
            raise CertLogicError('right-hand side of an "in" operation must be an array')
        value = needle(data)
        if type(value) is str:
            # `==` between a str and anything else is False; a `CodeList` answers this
            # from its set, so a 1,000-device list costs one hash look-up.
            return value in values
        return any(_strictly_equal(value, item) for item in values)

    return evaluate


def _compile_plus(left: Evaluator, right: Evaluator) -> Evaluator:
    def evaluate(data: Any) -> int:
        a, b = left(data), right(data)
        if not (_is_int(a) and _is_int(b)) or type(a) is bool or type(b) is bool:
            raise CertLogicError("operands of this operation must both be integers")
        return int(a + b)

    return evaluate


def _compile_infix(operator: str, values: list[Any]) -> Evaluator:
    if operator == "and":
        if len(values) < 2:
            return _failing('an "and" operation must have at least 2 operands')
    elif operator in _COMPARISONS or operator in _DATE_COMPARISONS:
        if not 2 <= len(values) <= 3:
            return _failing(f'an operation with operator "{operator}" must have 2 or 3 operands')
    elif len(values) != 2:
        return _failing(f'an operation with operator "{operator}" must have 2 operands')
    operands = [_compile(value) for value in values]
    if operator == "and":
        return _compile_and(operands)
    if operator == "===":
        left, right = operands
        return lambda data: _strictly_equal(left(data), right(data))
    if operator == "in":
        return _compile_in(operands[0], operands[1])
    if operator == "+":
        return _compile_plus(operands[0], operands[1])
    return _compile_comparison(operator, operands, dates=operator in _DATE_COMPARISONS)


def _compile_not(values: list[Any]) -> Evaluator:
    operand = _compile(values[0])

    def evaluate(data: Any) -> bool:
        value = operand(data)
        if is_falsy(value):
            return True
        if is_truthy(value):
            return False
        raise CertLogicError("operand of ! evaluates to something neither truthy, nor falsy")

    return evaluate


def _compile_plus_time(values: list[Any]) -> Evaluator:
    if len(values) < 3:
        return _failing('"plusTime" needs a date, an amount and a time unit')
    operand, amount, unit = _compile(values[0]), values[1], values[2]
    if not _is_int(amount) or type(amount) is bool:
        return _failing('"amount" argument (#2) of "plusTime" must be an integer')
    if unit not in TIME_UNITS:
        return _failing('"unit" argument (#3) of "plusTime" must be a time unit')
    whole = int(amount)
    if unit in ("day", "hour"):
        # A fixed number of milliseconds (what `plus_time` adds for these units).
        step = whole * (86_400_000 if unit == "day" else 3_600_000)

        def evaluate_fixed(data: Any) -> DateTime:
            text = operand(data)
            if type(text) is not str:
                raise CertLogicError('date argument of "plusTime" must be a string')
            return DateTime(_parse(text) + step)

        return evaluate_fixed

    def evaluate(data: Any) -> DateTime:
        text = operand(data)
        if type(text) is not str:
            raise CertLogicError('date argument of "plusTime" must be a string')
        return plus_time(text, whole, unit)

    return evaluate


def _compile_reduce(values: list[Any]) -> Evaluator:
    if len(values) < 3:
        return _failing('"reduce" needs an operand, a lambda and an initial value')
    operand, function, initial = (_compile(value) for value in values[:3])

    def evaluate(data: Any) -> Any:
        items = operand(data)
        accumulator = initial(data)
        if items is None:
            return accumulator
        if not isinstance(items, list):
            raise CertLogicError("operand of reduce evaluated to a non-null non-array")
        for item in items:
            accumulator = function({"accumulator": accumulator, "current": item, "data": data})
        return accumulator

    return evaluate


def _compile_extract(values: list[Any]) -> Evaluator:
    if len(values) < 2:
        return _failing('"extractFromUVCI" needs an operand and an index')
    operand, index = _compile(values[0]), values[1]
    if not _is_int(index) or type(index) is bool:
        return _failing('"index" argument (#2) of "extractFromUVCI" must be an integer')
    position = int(index)

    def evaluate(data: Any) -> str | None:
        value = operand(data)
        if value is not None and type(value) is not str:
            raise CertLogicError('"UVCI" argument (#1) of "extractFromUVCI" must be a string')
        return extract_from_uvci(value, position)

    return evaluate


def _compile_date_of_birth(values: list[Any]) -> Evaluator:
    operand = _compile(values[0])

    def evaluate(data: Any) -> DateTime:
        value = operand(data)
        if type(value) is not str:
            raise CertLogicError('operand of "dccDateOfBirth" must be a string')
        return dcc_date_of_birth(value)

    return evaluate


_OPERATIONS: Final[Mapping[str, Callable[[list[Any]], Evaluator]]] = {
    "if": _compile_if,
    "!": _compile_not,
    "plusTime": _compile_plus_time,
    "reduce": _compile_reduce,
    "extractFromUVCI": _compile_extract,
    "dccDateOfBirth": _compile_date_of_birth,
}


def _compile(expression: Any) -> Evaluator:
    kind = type(expression)
    if kind is str or kind is bool or kind is int:
        return _constant(expression)
    if kind is float and expression.is_integer():
        return _constant(int(expression))
    if kind is list:
        items = [_compile(item) for item in expression]
        return lambda data: [item(data) for item in items]
    if kind is not dict:
        return _failing(f"invalid CertLogic expression: {expression!r}")
    if len(expression) != 1:
        return _failing("unrecognised expression object encountered")
    ((operator, values),) = expression.items()
    if operator == "var":
        return _compile_var(values)
    if type(values) is not list or not values:
        return _failing('operation not of the form { "<operator>": [ <values...> ] }')
    if operator in _INFIX:
        return _compile_infix(operator, values)
    compile_operation = _OPERATIONS.get(operator)
    if compile_operation is None:
        return _failing(f'unrecognised operator: "{operator}"')
    return compile_operation(values)


def certlogic_compile(expression: Any) -> Evaluator:
    """A function that evaluates `expression` on a data context (raises `CertLogicError`)."""
    return _compile(expression)


def certlogic_evaluate(expression: Any, data: Any) -> Any:
    """Evaluate once; for repeated use compile with `certlogic_compile`."""
    return _compile(expression)(data)


# Programs: a list of expressions as one generated Python function ---------------------
#
# A verifier evaluates the same rule set on every scan. The closures above cost a Python
# call per node; a program turns the whole set into the source of one function (local
# variables, inline type checks), compiled once per rule set. Every `var` path of the set
# is looked up once per data context (a look-up never raises, so doing it for a rule
# that would not reach it changes no result), and each expression's outcome is caught on
# its own. What a program does not specialise (reduce and its lambda, extractFromUVCI,
# dccDateOfBirth, invalid nodes) runs through the closure of that node, so results and
# error messages are those of `certlogic_compile`, which the tests check case by case.

EVALUATION_ERRORS: Final = (CertLogicError, RecursionError, ValueError, OverflowError)
"""What evaluating an expression may raise: a rule engine reads any of them as "open"."""

type Program = Callable[[Any], list[Any]]
_MAX_DEPTH: Final = 24
"""Deeper nodes run as closures: the generated source stays well inside CPython's
nesting limits, whatever a rule author wrote."""
_MAX_AND_OPERANDS: Final = 16
_AND_MESSAGE: Final = "an and-operand is neither truthy, nor falsy"
_IF_MESSAGE: Final = "if-guard evaluates to something neither truthy, nor falsy"
_IN_MESSAGE: Final = 'right-hand side of an "in" operation must be an array'
_PLUS_TIME_MESSAGE: Final = 'date argument of "plusTime" must be a string'
_DATE_MESSAGE: Final = "all operands of a date-time comparison must be date-times"
_INTEGER_MESSAGE: Final = "all operands of a comparison operation must be of integer type"
_PYTHON_COMPARE: Final = {"<": "<", ">": ">", "<=": "<=", ">=": ">="}


def _plus(a: object, b: object) -> int:
    if not (_is_int(a) and _is_int(b)) or type(a) is bool or type(b) is bool:
        raise CertLogicError("operands of this operation must both be integers")
    return int(a + b)  # type: ignore[operator]


def _not(value: object) -> bool:
    if is_falsy(value):
        return True
    if is_truthy(value):
        return False
    raise CertLogicError("operand of ! evaluates to something neither truthy, nor falsy")


def _in_any(value: object, values: list[Any]) -> bool:
    """`in` for a needle that is not a string (`_compile_in`)."""
    if value is None:
        # `_strictly_equal(None, item)` is `item is None`; `==` against None holds only
        # for None among JSON values (and a `CodeList` holds only strings).
        return None in values
    return any(_strictly_equal(value, item) for item in values)


_RUNTIME: Final = {
    "CertLogicError": CertLogicError,
    "DateTime": DateTime,
    "is_truthy": is_truthy,
    "is_falsy": is_falsy,
    "_strictly_equal": _strictly_equal,
    "_parse": _parse,
    "plus_time": plus_time,
    "_plus": _plus,
    "_not": _not,
    "_in_any": _in_any,
    "_ERRORS": EVALUATION_ERRORS,
}


class _Source:
    """The source of one program being written: statements, temporaries, constants."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.indent = 1
        self.count = 0
        self.constants: dict[str, Any] = {}
        self.paths: dict[tuple[str, ...], str] = {}
        self.parsed_locals: set[str] = set()
        self.prologue: list[str] = []

    def temporary(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def emit(self, statement: str) -> None:
        self.lines.append("    " * self.indent + statement)

    def constant(self, value: Any) -> str:
        name = f"k{len(self.constants)}"
        self.constants[name] = value
        return name

    def parsed(self, path: str) -> str:
        """A local for the milliseconds of the text at the local `path`, unset (None)
        when the program starts."""
        name = f"m{path}"
        if name not in self.parsed_locals:
            self.parsed_locals.add(name)
            self.prologue.append(f"    {name} = None")
        return name

    def path(self, fragments: tuple[tuple[str, int | None], ...]) -> str:
        """A local holding the value at `fragments` in the data, looked up once in the
        prologue (the walk of `_compile_var`, one step per prefix)."""
        keys = tuple(key for key, _index in fragments)
        name = self.paths.get(keys)
        if name is not None:
            return name
        parent = "data" if len(fragments) == 1 else self.path(fragments[:-1])
        name = self.paths[keys] = f"p{len(self.paths)}"
        key, index = fragments[-1]
        lookup = f"{parent}.get({key!r}) if type({parent}) is dict else "
        if index is None:
            self.prologue.append(f"    {name} = {lookup}None")
        else:
            self.prologue.append(
                f"    {name} = {lookup}(({parent}[{index}] if {index} < len({parent}) "
                f"else None) if isinstance({parent}, list) else None)"
            )
        return name


def _literal(value: Any) -> str | None:
    kind = type(value)
    if kind is str or kind is bool or kind is int:
        return repr(value)
    if kind is float and value.is_integer():
        return repr(int(value))
    return None


def _emit(node: Any, source: _Source, depth: int) -> str:
    """Statements computing `node` into a local (or a literal); returns that expression.

    Mirrors `_compile` node for node; whatever it does not mirror is the closure."""
    literal = _literal(node)
    if literal is not None:
        return literal
    if depth <= _MAX_DEPTH and type(node) is dict and len(node) == 1:
        ((operator, values),) = node.items()
        if operator == "var" and type(values) is str:
            if values == "":
                return "data"
            fragments = tuple(
                (part, int(part) if part.isdigit() else None) for part in values.split(".")
            )
            return source.path(fragments)
        if type(values) is list and values:
            emitted = _emit_operation(operator, values, source, depth + 1)
            if emitted is not None:
                return emitted
    closure = source.constant(_compile(node))
    result = source.temporary()
    source.emit(f"{result} = {closure}(data)")
    return result


def _emit_operation(operator: str, values: list[Any], source: _Source, depth: int) -> str | None:
    count = len(values)
    if operator == "if" and count >= 3:
        return _emit_if(values, source, depth)
    if operator == "and" and 2 <= count <= _MAX_AND_OPERANDS:
        return _emit_and(values, source, depth)
    if operator == "===" and count == 2:
        left, right = _emit(values[0], source, depth), _emit(values[1], source, depth)
        result = source.temporary()
        if type(values[1]) is str:
            source.emit(f"{result} = type({left}) is str and {left} == {right}")
        else:
            source.emit(f"{result} = _strictly_equal({left}, {right})")
        return result
    if operator == "in" and count == 2:
        return _emit_in(values, source, depth)
    if operator == "+" and count == 2:
        left, right = _emit(values[0], source, depth), _emit(values[1], source, depth)
        result = source.temporary()
        source.emit(f"{result} = _plus({left}, {right})")
        return result
    if operator in _COMPARISONS and count in (2, 3):
        operands = []
        for value in values:
            operands.append(operand := source.temporary())
            source.emit(f"{operand} = {_emit(value, source, depth)}")
            source.emit(
                f"if type({operand}) is not int and (type({operand}) is not float"
                f" or not {operand}.is_integer()): {_fail(_INTEGER_MESSAGE)}"
            )
        return _emit_compare(_PYTHON_COMPARE[operator], operands, source)
    if operator in _DATE_COMPARISONS and count in (2, 3):
        operands = [_emit_date_ms(value, source, depth) for value in values]
        return _emit_compare(_PYTHON_COMPARE[_DATE_COMPARISONS[operator]], operands, source)
    if operator == "!":
        operand = _emit(values[0], source, depth)
        result = source.temporary()
        source.emit(f"{result} = _not({operand})")
        return result
    if operator == "plusTime" and _plus_time_valid(values):
        ms = _emit_plus_time_ms(values, source, depth)
        result = source.temporary()
        source.emit(f"{result} = DateTime({ms})")
        return result
    return None


def _emit_compare(symbol: str, operands: list[str], source: _Source) -> str:
    result = source.temporary()
    if len(operands) == 2:
        source.emit(f"{result} = {operands[0]} {symbol} {operands[1]}")
    else:
        a, b, c = operands
        source.emit(f"{result} = {a} {symbol} {b} and {b} {symbol} {c}")
    return result


def _plus_time_valid(values: list[Any]) -> bool:
    return (
        len(values) >= 3
        and _is_int(values[1])
        and type(values[1]) is not bool
        and values[2] in TIME_UNITS
    )


def _emit_plus_time_ms(values: list[Any], source: _Source, depth: int) -> str:
    """The milliseconds of a valid plusTime, as `_compile_plus_time` computes them.

    A date read from the data (`{"var": path}`) is parsed once per data context, in
    a local of its own (`_Source.parsed`): the validation clock and a vaccination date
    are read by several rules. A parse that fails leaves the local unset, so that each
    rule that reaches it fails alike."""
    text = _emit(values[0], source, depth)
    source.emit(f"if type({text}) is not str: {_fail(_PLUS_TIME_MESSAGE)}")
    whole, unit = int(values[1]), values[2]
    result = source.temporary()
    if unit in ("day", "hour"):
        step = whole * (86_400_000 if unit == "day" else 3_600_000)
        if text in source.paths.values():
            parsed = source.parsed(text)
            source.emit(f"if {parsed} is None: {parsed} = _parse({text})")
            source.emit(f"{result} = {parsed} + {step}")
        else:
            source.emit(f"{result} = _parse({text}) + {step}")
    else:
        source.emit(f"{result} = plus_time({text}, {whole}, {unit!r}).ms")
    return result


def _emit_date_ms(node: Any, source: _Source, depth: int) -> str:
    """An operand of a date comparison as milliseconds: a plusTime gives them without a
    `DateTime`; anything else is checked to be one."""
    if (
        depth <= _MAX_DEPTH
        and type(node) is dict
        and len(node) == 1
        and type(node.get("plusTime")) is list
        and _plus_time_valid(node["plusTime"])
    ):
        return _emit_plus_time_ms(node["plusTime"], source, depth + 1)
    value = _emit(node, source, depth)
    if _literal(node) is not None:  # `5.ms` would not parse
        literal, value = value, source.temporary()
        source.emit(f"{value} = {literal}")
    source.emit(f"if type({value}) is not DateTime: {_fail(_DATE_MESSAGE)}")
    return f"{value}.ms"


def _truthy(value: str) -> str:
    """`is_truthy(value)`, with the usual guards (an entry of the payload, a boolean)
    decided without the call."""
    if not value.isidentifier() or value in ("True", "False", "None"):
        return f"is_truthy({value})"
    return (
        f"({value} is True or (type({value}) is dict and len({value}) > 0)"
        f" or ({value} is not None and {value} is not False and is_truthy({value})))"
    )


def _falsy(value: str) -> str:
    """`is_falsy(value)`, with null and false decided without the call."""
    if not value.isidentifier() or value in ("True", "False", "None"):
        return f"is_falsy({value})"
    return f"({value} is None or {value} is False or is_falsy({value}))"


def _emit_if(values: list[Any], source: _Source, depth: int) -> str:
    guard = _emit(values[0], source, depth)
    result = source.temporary()
    source.emit(f"if {_truthy(guard)}:")
    source.indent += 1
    source.emit(f"{result} = {_emit(values[1], source, depth)}")
    source.indent -= 1
    source.emit(f"elif {_falsy(guard)}:")
    source.indent += 1
    source.emit(f"{result} = {_emit(values[2], source, depth)}")
    source.indent -= 1
    source.emit(f"else: {_fail(_IF_MESSAGE)}")
    return result


def _emit_and(values: list[Any], source: _Source, depth: int) -> str:
    result = source.temporary()
    source.emit(f"{result} = {_emit(values[0], source, depth)}")
    opened = 0
    for value in values[1:]:
        source.emit(f"if not {_falsy(result)}:")
        source.indent += 1
        opened += 1
        source.emit(f"if not {_truthy(result)}: {_fail(_AND_MESSAGE)}")
        source.emit(f"{result} = {_emit(value, source, depth)}")
    source.indent -= opened
    return result


def _emit_in(values: list[Any], source: _Source, depth: int) -> str:
    # The array first, then the needle, as `_compile_in` evaluates them.
    haystack = _emit(values[1], source, depth)
    if _literal(values[1]) is not None:  # `<literal> is None` would warn
        literal, haystack = haystack, source.temporary()
        source.emit(f"{haystack} = {literal}")
    result = source.temporary()
    source.emit(f"if {haystack} is None:")
    source.emit(f"    {result} = False")
    source.emit("else:")
    source.indent += 1
    source.emit(f"if not isinstance({haystack}, list): {_fail(_IN_MESSAGE)}")
    needle = _emit(values[0], source, depth)
    source.emit(
        f"{result} = {needle} in {haystack} if type({needle}) is str"
        f" else _in_any({needle}, {haystack})"
    )
    source.indent -= 1
    return result


def _fail(message: str) -> str:
    """The statement that ends an expression with a `CertLogicError(message)` as its
    result: made, not raised (each expression runs in a `while True` block of its own,
    which `break` leaves). A raise costs a traceback that holds the program's frame,
    with its hundreds of locals, until the garbage collector finds the cycle; an open
    rule of the usual kind (a date of a test read on a vaccination) would pay that on
    every scan."""
    return f"results.append(CertLogicError({message!r})); break"


def certlogic_program(expressions: list[Any]) -> Program:
    """One function that evaluates every expression on a data context and returns, for
    each, its value or the exception (one of `EVALUATION_ERRORS`) it raised: what
    `certlogic_compile(expression)(data)` returns or raises, for all of them at once.

    The exceptions carry no traceback (`_fail`; a caught one is stripped of it), so a
    result list holds no frame."""
    source = _Source()
    for expression in expressions:
        source.emit("while True:")
        source.indent += 1
        source.emit("try:")
        source.indent += 1
        value = _emit(expression, source, 0)
        source.emit(f"results.append({value})")
        source.indent -= 1
        source.emit("except _ERRORS as error:")
        source.emit("    results.append(error.with_traceback(None))")
        source.emit("break")
        source.indent -= 1
    header = ["def program(data):", *source.prologue, "    results = []"]
    text = "\n".join([*header, *source.lines, "    return results"])
    namespace: dict[str, Any] = {**_RUNTIME, **source.constants}
    exec(compile(text, "<certlogic program>", "exec"), namespace)  # noqa: S102 - our own source
    program: Program = namespace["program"]
    return program
