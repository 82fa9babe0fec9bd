"""Rule-set programs (`certlogic_program`) against the closure evaluator they stand for.

The closures (`certlogic_compile`) pass every case of the official suites
(test_certlogic_suites); a program must give, for every expression, the same value (the
same JSON types) or the same error (type and message): on every suite case, on each
suite file as one program, and on data and expressions Hypothesis makes up.
"""

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covidhub.certificates.dcc.certlogic import (
    EVALUATION_ERRORS,
    CertLogicError,
    DateTime,
    _parse_text,
    _recent,
    certlogic_compile,
    certlogic_program,
    date_time_parse,
    date_time_text,
)
from covidhub.certificates.dcc.valuesets import DATA_DIRECTORY, CodeList

SUITES = Path(__file__).resolve().parent / "data" / "certlogic" / "testSuite"
RULE_SETS = sorted((DATA_DIRECTORY / "rules").glob("*.json"))


def _fuzz(max_examples: int) -> settings:
    # No example database: it would write a .hypothesis folder into the work tree.
    return settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _comparable(value: Any) -> Any:
    """A value or an error as something `==` compares with its JSON types kept."""
    if isinstance(value, BaseException):
        return ("error", type(value).__name__, str(value))
    if isinstance(value, DateTime):
        return ("date-time", value.ms)
    if isinstance(value, list):
        return ("array", [_comparable(item) for item in value])
    if isinstance(value, dict):
        return ("object", {key: _comparable(item) for key, item in value.items()})
    return (type(value).__name__, value)


def _reference(expression: Any, data: Any) -> Any:
    try:
        return _comparable(certlogic_compile(expression)(data))
    except EVALUATION_ERRORS as error:
        return _comparable(error)


def _program(expressions: list[Any], data: Any) -> list[Any]:
    return [_comparable(result) for result in certlogic_program(expressions)(data)]


def _suite_cases() -> list[tuple[str, Any, Any]]:
    cases = []
    for path in sorted(SUITES.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            for assertion in case["assertions"]:
                expression = assertion.get("certLogicExpression", case.get("certLogicExpression"))
                cases.append((path.stem, expression, assertion["data"]))
    return cases


SUITE_CASES = _suite_cases()


def test_every_suite_case_gives_what_the_closures_give():
    assert len(SUITE_CASES) == 232
    differences = [
        (name, expression, data)
        for name, expression, data in SUITE_CASES
        if _program([expression], data) != [_reference(expression, data)]
    ]
    assert differences == []


def test_each_suite_file_as_one_program_on_each_of_its_data():
    """Many expressions in one program share their path look-ups: every expression of a
    suite file is run on every data context of that file."""
    by_file: dict[str, tuple[list[Any], list[Any]]] = {}
    for name, expression, data in SUITE_CASES:
        expressions, datas = by_file.setdefault(name, ([], []))
        expressions.append(expression)
        datas.append(data)
    runs = 0
    for expressions, datas in by_file.values():
        program = certlogic_program(expressions)
        for data in datas:
            expected = [_reference(expression, data) for expression in expressions]
            assert [_comparable(result) for result in program(data)] == expected
            runs += len(expressions)
    assert runs > len(SUITE_CASES)


def test_a_program_keeps_nothing_between_runs():
    """Each run reads its own data context (no look-up is remembered), and an array
    literal is a new array on every run (JavaScript's `===` compares arrays by identity)."""
    program = certlogic_program([{"var": "a.0"}, {"===": [[1], [1]]}, {"var": "a"}])
    first_data, second_data = {"a": [1]}, {"a": ["x"]}
    first, second = program(first_data), program(second_data)
    assert first[:2] == [1, False] and second[:2] == ["x", False]
    assert first[2] is first_data["a"] and second[2] is second_data["a"]


# Made-up data for the shipped rule sets -------------------------------------------------

_DATES = st.sampled_from(
    [
        "2021-06-01",
        "2021-06-01T10:00:00Z",
        "2021-06-01T10:00:00.123+02:00",
        "2021-02-30",
        "2021",
        "2021-06",
        "not a date",
        "",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=5),
    st.sampled_from([1.0, 2.5, -0.0]),
    _DATES,
    st.sampled_from(
        ["840539006", "EU/1/20/1528", "ORG-100030215", "LP6464-4", "LP217198-3", "260415000"]
    ),
    st.text(max_size=4),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("ab"), inner, max_size=2)
    ),
    max_leaves=6,
)
_ENTRY_FIELDS = ["tg", "co", "mp", "ma", "vp", "dn", "sd", "dt", "tt", "tr", "sc", "df", "du", "fr"]
_ENTRY = st.dictionaries(st.sampled_from(_ENTRY_FIELDS), _VALUES, max_size=8)
_PAYLOAD = st.one_of(
    st.dictionaries(
        st.sampled_from(["v", "t", "r", "dob", "nam"]),
        st.one_of(st.lists(_ENTRY, max_size=2), _VALUES),
        max_size=3,
    ),
    _VALUES,
)
_CODE_LISTS = st.lists(
    st.sampled_from(["840539006", "EU/1/20/1528", "ORG-100030215", "VN", "LP6464-4", "x"]),
    min_size=1,
    max_size=4,
).map(CodeList)
_VALUE_SETS = st.dictionaries(
    st.sampled_from(
        [
            "country-2-codes",
            "covid-19-lab-test-type",
            "covid-19-lab-result",
            "covid-19-lab-test-manufacturer-and-name",
            "vaccines-covid-19-names",
            "vaccines-covid-19-auth-holders",
            "sct-vaccines-covid-19",
        ]
    ),
    st.one_of(_CODE_LISTS, _VALUES),
    max_size=7,
)
_EXTERNAL = st.fixed_dictionaries(
    {},
    optional={
        "validationClock": _DATES,
        "exp": _DATES,
        "iat": _DATES,
        "countryCode": st.sampled_from(["VN", "DE", 5]),
        "valueSets": _VALUE_SETS,
    },
)


def _rule_logic(path: Path) -> list[Any]:
    return [rule["Logic"] for rule in json.loads(path.read_text(encoding="utf-8"))]


RULE_LOGIC = [logic for path in RULE_SETS for logic in _rule_logic(path)]
RULES_PROGRAM = certlogic_program(RULE_LOGIC)


@_fuzz(400)
@given(payload=_PAYLOAD, external=_EXTERNAL)
def test_the_shipped_rules_as_one_program_on_made_up_certificates(payload, external):
    assert len(RULE_SETS) >= 3 and len(RULE_LOGIC) >= 20
    data = {"payload": payload, "external": external}
    expected = [_reference(logic, data) for logic in RULE_LOGIC]
    assert [_comparable(result) for result in RULES_PROGRAM(data)] == expected


# Made-up expressions ---------------------------------------------------------------------

_PATHS = st.sampled_from(
    ["", "a", "a.b", "a.0", "a.0.b", "b.1", "a.b.c.d", "c", "a.00", "accumulator", "current"]
)
_OPERATORS = [
    "if",
    "and",
    "===",
    "in",
    "+",
    "<",
    ">",
    "<=",
    ">=",
    "after",
    "before",
    "not-after",
    "not-before",
    "!",
    "plusTime",
    "reduce",
    "extractFromUVCI",
    "dccDateOfBirth",
    "nonsense",
]
_UNITS = st.sampled_from(["day", "hour", "month", "year", "week"])


def _operations(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    operands = st.lists(inner, min_size=0, max_size=4)
    return st.one_of(
        st.builds(
            lambda operator, values: {operator: values}, st.sampled_from(_OPERATORS), operands
        ),
        st.builds(
            lambda operand, amount, unit: {"plusTime": [operand, amount, unit]},
            inner,
            st.one_of(st.integers(-400, 400), st.sampled_from([1.5, "1", True])),
            _UNITS,
        ),
        st.builds(
            lambda left, right, operator: {operator: [left, right]},
            inner,
            inner,
            st.sampled_from(
                ["after", "before", "not-after", "not-before", "<", "===", "in", "+", "and"]
            ),
        ),
        st.lists(inner, max_size=3),
        st.builds(lambda a, b: {"if": [a, b, b], "extra": 1}, inner, inner),
    )


_EXPRESSIONS = st.recursive(
    st.one_of(
        _SCALARS,
        st.builds(lambda path: {"var": path}, _PATHS),
        st.builds(lambda path: {"var": path}, st.sampled_from([1, None, ["a"]])),
        st.builds(
            lambda path, amount, unit: {"plusTime": [{"var": path}, amount, unit]},
            _PATHS,
            st.integers(-30, 30),
            _UNITS,
        ),
    ),
    _operations,
    max_leaves=12,
)
_DATA = st.dictionaries(
    st.sampled_from(["a", "b", "c"]),
    st.one_of(_VALUES, st.lists(st.dictionaries(st.sampled_from("abc"), _VALUES), max_size=2)),
    max_size=3,
)


@_fuzz(1500)
@given(expressions=st.lists(_EXPRESSIONS, min_size=1, max_size=4), data=st.one_of(_DATA, _VALUES))
def test_made_up_expressions_give_what_the_closures_give(expressions, data):
    expected = [_reference(expression, data) for expression in expressions]
    assert _program(expressions, data) == expected


def test_deep_expressions_run_as_closures_and_still_agree():
    expression: Any = {"var": "a"}
    for _ in range(200):
        expression = {"if": [True, expression, False]}
    data = {"a": 7}
    assert _program([expression, {"!": [expression]}], data) == [
        _reference(expression, data),
        _reference({"!": [expression]}, data),
    ]


def test_in_reads_the_array_before_the_needle():
    """The reference evaluates the right-hand side first: a null array is `false`
    without the needle being evaluated (here it would raise)."""
    raising = {"plusTime": [{"var": "nowhere"}, 1, "day"]}
    expressions = [{"in": [raising, {"var": "none"}]}, {"in": [raising, {"var": "list"}]}]
    data = {"none": None, "list": ["a"]}
    assert _program(expressions, data) == [_reference(e, data) for e in expressions]
    assert _program(expressions, data)[0] == ("bool", False)
    assert _program(expressions, data)[1][0] == "error"


def test_errors_hold_no_frame():
    """An open rule's error carries no traceback: a traceback would hold the program's
    frame (every local of the rule set) in a cycle until the garbage collector ran."""
    inline = {"plusTime": [{"var": "nowhere"}, 1, "day"]}  # made, not raised
    raised = {"plusTime": [{"var": "bad"}, 1, "day"]}  # raised by the date parser
    results = certlogic_program([inline, raised])({"bad": "2021-02-30"})
    assert [type(result) for result in results] == [CertLogicError, CertLogicError]
    assert all(result.__traceback__ is None for result in results)


def test_a_date_read_by_several_rules_is_parsed_once_and_fails_for_each():
    """A path's date is parsed once per run; a parse that fails fails every rule that
    reaches it, each with its own error, as the closures do."""
    expressions = [
        {"after": [{"plusTime": [{"var": "d"}, 1, "day"]}, {"plusTime": [{"var": "d"}, 0, "day"]}]},
        {
            "before": [
                {"plusTime": [{"var": "d"}, 2, "hour"]},
                {"plusTime": [{"var": "e"}, 0, "day"]},
            ]
        },
        {"plusTime": [{"var": "d"}, 3, "day"]},
    ]
    for data in ({"d": "2021-06-01", "e": "2021-06-02"}, {"d": "2021-13-01", "e": "x"}):
        expected = [_reference(expression, data) for expression in expressions]
        assert _program(expressions, data) == expected
    failing = _program(expressions, {"d": "2021-13-01", "e": "x"})
    assert [result[0] for result in failing] == ["error", "error", "error"]


@_fuzz(300)
@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 1),  # noqa: DTZ001 - made aware by `timezones`
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=7)), timezone(-timedelta(hours=5, minutes=30))]
        ),
    )
)
def test_a_validation_clock_is_known_as_the_parser_reads_it(moment):
    """`date_time_text` writes the clock as the EU apps do and files its milliseconds
    for the rules; they are what parsing the text gives."""
    text = date_time_text(moment)
    assert text == moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert _recent[text] == _parse_text(text)
    assert date_time_parse(text).ms == _parse_text(text)
