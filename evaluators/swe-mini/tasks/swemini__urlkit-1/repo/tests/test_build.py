from urlkit import build_url


def test_no_params():
    assert build_url("https://x.org/a") == "https://x.org/a"
    assert build_url("https://x.org/a", {}) == "https://x.org/a"


def test_simple_params():
    assert build_url("https://x.org/s", {"q": "cats", "page": 2}) == "https://x.org/s?q=cats&page=2"


def test_existing_query_is_extended():
    assert build_url("https://x.org/s?lang=en", {"q": "dogs"}) == "https://x.org/s?lang=en&q=dogs"
