import io

import pytest

from wordfreq import count_words, main


def run(argv, stdin_text=""):
    out = io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin_text), stdout=out)
    return code, out.getvalue()


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "sample.txt"
    path.write_text("the cat and the hat and THE bat\n", encoding="utf-8")
    return str(path)


def test_count_words():
    assert count_words("a b a")["a"] == 2


def test_default_output(sample):
    code, out = run([sample])
    assert code == 0
    assert out.splitlines()[0].split() == ["2", "the"]


def test_ignore_case(sample):
    _, out = run(["--ignore-case", sample])
    assert out.splitlines()[0].split() == ["3", "the"]


def test_min_length(sample):
    _, out = run(["--min-length", "4", sample])
    assert out == ""


def test_needs_an_argument():
    with pytest.raises(SystemExit):
        main([], stdin=io.StringIO(""), stdout=io.StringIO())
