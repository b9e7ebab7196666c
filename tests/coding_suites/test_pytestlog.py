"""Reading pytest -rA output and the SWE-bench resolution rule."""

from dgm_codingkit.pytestlog import between_markers, grade, parse_pytest_log

LOG = """\
============================= test session starts ==============================
collected 5 items

tests/test_a.py .F.sx                                                    [100%]

=================================== FAILURES ===================================
___________________________________ test_two ___________________________________
----------------------------- Captured stdout call -----------------------------
PASSED tests/test_a.py::test_two
==================================== PASSES ====================================
=========================== short test summary info ============================
PASSED tests/test_a.py::test_one
PASSED tests/test_a.py::test_three
SKIPPED [1] tests/test_a.py:20: not on this platform
XFAIL tests/test_a.py::test_five - known bug
FAILED tests/test_a.py::test_two - assert 1 == 2
ERROR tests/test_b.py::test_setup - fixture 'db' not found
==================== 1 failed, 2 passed, 1 skipped, 1 xfailed in 0.05s ====================
"""


def test_statuses_come_from_the_summary_section_only():
    status = parse_pytest_log(LOG)
    assert status == {"tests/test_a.py::test_one": "PASSED", "tests/test_a.py::test_three": "PASSED",
                      "tests/test_a.py::test_five": "XFAIL", "tests/test_a.py::test_two": "FAILED",
                      "tests/test_b.py::test_setup": "ERROR"}


def test_a_log_without_summary_has_no_results():
    assert parse_pytest_log("ImportError: cannot import name 'x'\n") == {}


def test_resolved_needs_every_f2p_and_p2p():
    status = parse_pytest_log(LOG)
    assert grade(status, ["tests/test_a.py::test_one"], ["tests/test_a.py::test_three"]).resolved
    assert grade(status, ["tests/test_a.py::test_five"], []).resolved  # XFAIL counts as a pass
    v = grade(status, ["tests/test_a.py::test_two", "tests/test_a.py::test_missing"],
              ["tests/test_b.py::test_setup", "tests/test_a.py::test_one"])
    assert not v.resolved
    assert v.f2p_failed == ["tests/test_a.py::test_two", "tests/test_a.py::test_missing"]
    assert v.p2p_failed == ["tests/test_b.py::test_setup"]
    assert "test_missing" in v.summary() and "test_setup" in v.summary()


def test_skipped_is_kept_for_p2p_but_not_for_f2p():
    status = {"t::a": "SKIPPED", "t::b": "PASSED"}
    assert grade(status, ["t::b"], ["t::a"]).resolved
    assert not grade(status, ["t::a"], ["t::b"]).resolved


def test_no_f2p_tests_never_resolves():
    assert not grade({"t::a": "PASSED"}, [], ["t::a"]).resolved


def test_markers():
    assert between_markers("x\n>>>>> Start Test Output\nmid\n>>>>> End Test Output\ny") == "\nmid\n"
    assert between_markers("no markers") == "no markers"
