import pytest

from romans import from_roman, to_roman


@pytest.mark.parametrize("number, text", [(1, "I"), (3, "III"), (8, "VIII"), (2023, "MMXXIII")])
def test_to_roman_additive(number, text):
    assert to_roman(number) == text


def test_from_roman_additive():
    assert from_roman("MDCLXVI") == 1666
    assert from_roman(" viii ") == 8


@pytest.mark.parametrize("bad", [0, -5, 4000, 2.5])
def test_to_roman_out_of_range(bad):
    with pytest.raises(ValueError):
        to_roman(bad)


def test_from_roman_rejects_junk():
    with pytest.raises(ValueError):
        from_roman("XIZ")
