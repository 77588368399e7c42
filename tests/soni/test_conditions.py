"""The condition language, as a table."""

from __future__ import annotations

import pytest

from soni.core.conditions import parse_condition
from soni.errors import ConditionError

SLOTS = {
    "a": True,
    "b": False,
    "c": False,
    "n": 5,
    "x": 2.5,
    "name": "Bob",
    "none": None,
    "flag": True,
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("a or b and c", True),  # and binds tighter: a or (b and c)
        ("(a or b) and c", False),
        ("not b and a", True),
        ("not (a and b)", True),
        ("not not a", True),
        ("n > 3 and n <= 5", True),
        ("n == 5.0", True),
        ("n != 5", False),
        ("x < 3", True),
        ("x >= 2.5", True),
        ('name == "Bob"', True),
        ("name == 'Bob'", True),
        ('name != "bob"', True),
        ("name > 3", False),  # a string and a number are not ordered
        ("missing > 3", False),  # an unset slot is null
        ("missing == null", True),
        ("missing != true", True),
        ("flag == true", True),
        ("flag == 1", False),  # booleans are not numbers here
        ("a", True),
        ("missing", False),
        ("TRUE", True),
        ('"quoted \\" string" == "quoted \\" string"', True),
    ],
)
def test_evaluation(expression: str, expected: bool) -> None:
    assert parse_condition(expression).evaluate(SLOTS) is expected


def test_slots_read_by_a_condition() -> None:
    assert parse_condition("a or (n > 1 and not name == 'x')").slots == {"a", "n", "name"}


@pytest.mark.parametrize(
    ("expression", "column", "message"),
    [
        ("", 1, "empty condition"),
        ("a ==", 5, "unexpected end"),
        ("(a or b", 8, "unexpected end"),
        ("a b", 3, "unexpected 'b'"),
        ("a & b", 3, "unexpected character"),
        ("and a", 1, "unexpected 'and'"),
        ("a == == b", 6, "unexpected '=='"),
        ("(a))", 4, "unexpected ')'"),
    ],
)
def test_parse_errors_say_where(expression: str, column: int, message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(expression)
    assert str(caught.value) == f"{message} at column {column} of {expression!r}"
