from tabular import to_csv, to_text

ROWS = [{"name": "Ada", "age": 36}, {"name": "Linus", "age": 28, "extra": "x"}]


def test_csv_simple():
    assert to_csv(ROWS, ["name", "age"]) == "name,age\nAda,36\nLinus,28\n"


def test_csv_missing_key_is_empty():
    assert to_csv([{"name": "Ada"}], ["name", "age"]) == "name,age\nAda,\n"


def test_csv_header_order():
    assert to_csv(ROWS[:1], ["age", "name"]).splitlines()[1] == "36,Ada"


def test_text_table():
    assert to_text(ROWS, ["name", "age"]) == "name   age\nAda    36\nLinus  28\n"
