from slugkit import slugify


def test_basic():
    assert slugify("Hello, World!") == "hello-world"


def test_accents_are_removed():
    assert slugify("Crème brûlée") == "creme-brulee"


def test_custom_separator():
    assert slugify("a b c", sep="_") == "a_b_c"


def test_leading_and_trailing_junk():
    assert slugify("  --Hi there--  ") == "hi-there"


def test_empty():
    assert slugify("!!!") == ""
