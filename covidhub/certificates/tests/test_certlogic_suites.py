"""Every case of the official CertLogic suites (evaluation and validation), one test each.

The files are the upstream ones, unchanged (tests/data/certlogic). Cases that upstream
marks "skip" run too: our evaluator implements the behaviour they describe.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from covidhub.certificates.dcc.certlogic import (
    CertLogicError,
    DateTime,
    certlogic_compile,
    certlogic_evaluate,
    plus_time,
)
from covidhub.certificates.dcc.certlogic_validation import certlogic_validate
from covidhub.certificates.dcc.valuesets import CodeList

SUITES = Path(__file__).resolve().parent / "data" / "certlogic"


def _evaluation_cases() -> list[Any]:
    cases = []
    for path in sorted((SUITES / "testSuite").glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for case in suite["cases"]:
            for number, assertion in enumerate(case["assertions"]):
                expression = assertion.get("certLogicExpression", case.get("certLogicExpression"))
                cases.append(
                    pytest.param(
                        expression,
                        assertion["data"],
                        assertion["expected"],
                        id=f"{path.stem}: {case['name']} #{number}",
                    )
                )
    return cases


def _validation_cases() -> list[Any]:
    cases = []
    for path in sorted((SUITES / "validation-testSuite").glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for number, case in enumerate(suite["cases"]):
            cases.append(
                pytest.param(
                    case["certLogicExpression"], case["issues"], id=f"{path.stem} #{number}"
                )
            )
    return cases


EVALUATION_CASES = _evaluation_cases()
VALIDATION_CASES = _validation_cases()


def test_every_suite_file_is_read():
    assert len(EVALUATION_CASES) == 232
    assert len(VALIDATION_CASES) == 23


def _same(actual: Any, expected: Any) -> bool:
    """Equal with the same JSON types (True is not 1, 1 is not "1")."""
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(map(_same, actual, expected))
    if isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            _same(actual[key], expected[key]) for key in expected
        )
    return actual == expected


@pytest.mark.parametrize(("expression", "data", "expected"), EVALUATION_CASES)
def test_evaluation_suite(expression, data, expected):
    assert _same(certlogic_evaluate(expression, data), expected)


def _as_code_lists(value: Any) -> Any:
    """`value` with every non-empty array of strings as a `CodeList`, the form in which
    value sets reach the rules."""
    if isinstance(value, list):
        items = [_as_code_lists(item) for item in value]
        return CodeList(items) if items and all(type(i) is str for i in items) else items
    if isinstance(value, dict):
        return {key: _as_code_lists(item) for key, item in value.items()}
    return value


def _as_lists(value: Any) -> Any:
    if isinstance(value, list):
        return [_as_lists(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_lists(item) for key, item in value.items()}
    return value


def _outcome(evaluate: Any, data: Any) -> Any:
    try:
        return ("value", _as_lists(evaluate(data)))
    except CertLogicError:
        return ("error", None)


@pytest.mark.parametrize(("expression", "data", "expected"), EVALUATION_CASES)
def test_evaluation_suite_with_arrays_as_value_set_code_lists(expression, data, expected):
    """The set-backed `in` of a value set answers as the array it stands for."""
    compiled = certlogic_compile(expression)
    assert _same(_outcome(compiled, _as_code_lists(data)), _outcome(compiled, data))
    assert _same(_as_lists(compiled(_as_code_lists(data))), expected)


def test_a_compiled_expression_gives_the_same_result_on_every_run():
    """The engine compiles a rule once and runs it on every scan: each suite expression,
    compiled once, is run on all of its cases' data, forwards and then backwards, and
    must give what compiling afresh for each run gives (no state kept between runs)."""
    by_expression: dict[str, list[Any]] = {}
    for case in EVALUATION_CASES:
        expression, data, _expected = case.values
        by_expression.setdefault(json.dumps(expression, sort_keys=True), []).append(data)
    runs = 0
    for text, datas in by_expression.items():
        compiled = certlogic_compile(json.loads(text))
        for data in [*datas, *reversed(datas)]:
            fresh = certlogic_compile(json.loads(text))
            assert _outcome(compiled, data) == _outcome(fresh, data), text
            runs += 1
    assert runs == 2 * len(EVALUATION_CASES)


@pytest.mark.parametrize(("expression", "issues"), VALIDATION_CASES)
def test_validation_suite(expression, issues):
    assert certlogic_validate(expression) == issues


def test_type_errors_raise_and_unvisited_branches_do_not():
    with pytest.raises(CertLogicError):
        certlogic_evaluate({"<": [1, "2"]}, {})
    with pytest.raises(CertLogicError):
        certlogic_evaluate({"after": [1, 2]}, {})
    # The reference evaluator fails only on what it evaluates.
    assert certlogic_evaluate({"if": [True, 1, {"nonsense": [1]}]}, {}) == 1
    with pytest.raises(CertLogicError):
        certlogic_evaluate({"if": [False, 1, {"nonsense": [1]}]}, {})


def test_plus_time_follows_javascript_date_overflow():
    assert plus_time("2020-02-29", 1, "day").isoformat() == "2020-03-01T00:00:00.000Z"
    assert plus_time("2020-02-29", 1, "month").isoformat() == "2020-03-29T00:00:00.000Z"
    assert plus_time("2020-02-29", 1, "year").isoformat() == "2021-03-01T00:00:00.000Z"
    assert plus_time("2021-01-31T10:00:00+02:00", 1, "month").isoformat() == (
        "2021-03-03T08:00:00.000Z"
    )
    assert isinstance(plus_time("2021-06-01T00:00:00.123456Z", -1, "hour"), DateTime)
