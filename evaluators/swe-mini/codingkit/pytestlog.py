"""Read ``pytest -rA`` output and grade it with SWE-bench's rule.

The status lines are read from pytest's *short test summary info* section
only, so text a test prints into its captured output (shown earlier in the
log) cannot pose as a result. Statuses follow SWE-bench 5
(``swebench/harness/grading.py``): PASSED and XFAIL pass; for PASS_TO_PASS a
SKIPPED test is kept; a FAIL_TO_PASS test must really pass; a test missing
from the log failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

STATUSES = ("PASSED", "FAILED", "SKIPPED", "ERROR", "XFAIL", "XPASS")
_SUMMARY_HEADER = re.compile(r"^=+ short test summary info =+$")
_SECTION = re.compile(r"^=+ .* =+$")
START_MARKER = ">>>>> Start Test Output"
END_MARKER = ">>>>> End Test Output"


def between_markers(log: str) -> str:
    """The part of an eval.sh log between SWE-bench's markers (the whole log if absent)."""
    if START_MARKER in log and END_MARKER in log:
        return log.split(START_MARKER, 1)[1].rsplit(END_MARKER, 1)[0]
    return log


def parse_pytest_log(log: str) -> dict[str, str]:
    """Map test id -> status from the last short-test-summary section of a ``-rA`` run."""
    lines = log.splitlines()
    header = max((i for i, line in enumerate(lines) if _SUMMARY_HEADER.match(line)), default=None)
    if header is None:
        return {}
    status: dict[str, str] = {}
    for line in lines[header + 1:]:
        if _SECTION.match(line):
            break
        word, _, rest = line.partition(" ")
        if word not in STATUSES or not rest:
            continue
        if word == "SKIPPED" and rest.startswith("["):
            continue  # "SKIPPED [1] path:line: reason" names no test id
        test_id = rest.split(" - ", 1)[0].strip()
        if test_id:
            status[test_id] = word
    return status


@dataclass
class Verdict:
    resolved: bool
    f2p_failed: list[str] = field(default_factory=list)
    p2p_failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.resolved:
            return "resolved: every FAIL_TO_PASS and PASS_TO_PASS test passes"
        parts = []
        if self.f2p_failed:
            parts.append(f"FAIL_TO_PASS not passing: {', '.join(self.f2p_failed)}")
        if self.p2p_failed:
            parts.append(f"PASS_TO_PASS broken: {', '.join(self.p2p_failed)}")
        return "; ".join(parts) or "unresolved"


def grade(status: dict[str, str], fail_to_pass: list[str], pass_to_pass: list[str]) -> Verdict:
    """Resolved iff every FAIL_TO_PASS test passes and every PASS_TO_PASS test is kept."""
    f2p_failed = [t for t in fail_to_pass if status.get(t) not in ("PASSED", "XFAIL")]
    p2p_failed = [t for t in pass_to_pass if status.get(t) not in ("PASSED", "XFAIL", "SKIPPED")]
    return Verdict(not f2p_failed and not p2p_failed and bool(fail_to_pass), f2p_failed, p2p_failed)
