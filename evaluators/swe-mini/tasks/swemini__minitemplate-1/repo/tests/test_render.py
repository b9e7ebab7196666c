from minitemplate import render


def test_simple():
    assert render("Hello {{name}}!", {"name": "Ada"}) == "Hello Ada!"


def test_several_placeholders():
    assert render("{{a}}+{{b}}={{c}}", {"a": 1, "b": 2, "c": 3}) == "1+2=3"


def test_text_without_placeholders():
    assert render("plain {text}", {}) == "plain {text}"


def test_values_are_converted_to_text():
    assert render("{{x}}", {"x": None}) == "None"
