import pytest

from calcparse import CalcError, evaluate


@pytest.mark.parametrize("text, value", [
    ("1 + 2", 3), ("2 + 3 * 4", 14), ("2 * (3 + 4)", 14), ("-3 + 5", 2),
    ("1.5 * 2", 3.0), ("--4", 4), ("7", 7),
], ids=["add", "precedence", "parens", "unary", "float", "double-minus", "number"])
def test_evaluate(text, value):
    assert evaluate(text) == value


@pytest.mark.parametrize("bad", ["1 +", "(1 + 2", "2 $ 3", "1 2", ""],
                         ids=["dangling-op", "unclosed", "bad-char", "two-numbers", "empty"])
def test_syntax_errors(bad):
    with pytest.raises(CalcError):
        evaluate(bad)


def test_division_by_zero():
    with pytest.raises(CalcError):
        evaluate("1 / (2 - 2)")
