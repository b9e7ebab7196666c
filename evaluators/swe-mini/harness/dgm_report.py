"""In-sandbox pytest plugin: every test report, as it happens, to a pipe the grader opened.

Loaded from the read-only harness by ``grade.py`` (passed to ``pytest.main``
as an object, imported before pytest reads any file of the repository), it
writes one JSON line per report (``{"t": "report", "id", "when", "outcome",
"xfail"}``) and a final ``{"t": "end", "exitstatus"}`` to the file
descriptor the grader passed in. The grader, a separate process, reads the
pipe; nothing is written into the test tree.

Code under test runs in this same process, so it *could* reach this plugin.
The plugin therefore also snapshots, before any repository code is imported,
the pytest internals that decide an outcome and its own methods, and reports
``{"t": "tamper", "why"}`` when any of them has been replaced or a trace or
profile hook is set. That check is a heuristic (docs/security.md); the
grader's other signals are the separate per-test runs and the static diff check.
"""

from __future__ import annotations

import json
import os
import sys

_WATCHED = (
    ("_pytest.runner", ("runtestprotocol", "call_and_report", "call_runtest_hook",
                        "pytest_runtest_protocol", "pytest_runtest_makereport")),
    ("_pytest.python", ("pytest_pyfunc_call",)),
    ("_pytest.main", ("pytest_runtestloop",)),
    ("_pytest.skipping", ("pytest_runtest_makereport", "pytest_runtest_setup", "pytest_runtest_call")),
    ("_pytest.outcomes", ("fail", "skip", "xfail", "exit")),
    ("pluggy._callers", ("_multicall",)),
)


def _resolve(modname: str, attr: str):
    mod = sys.modules.get(modname)
    return getattr(mod, attr, None) if mod is not None else None


class Plugin:
    """The reporting plugin; ``fd`` is the write end of the grader's pipe."""

    def __init__(self, fd: int) -> None:
        import _pytest.main  # noqa: F401 - make sure everything watched is imported now
        import _pytest.outcomes  # noqa: F401
        import _pytest.python  # noqa: F401
        import _pytest.reports
        import _pytest.runner
        import _pytest.skipping  # noqa: F401
        import pluggy._callers  # noqa: F401
        import pluggy._hooks

        self.fd = fd
        self._write, self._dumps = os.write, json.dumps
        self._snap = {(m, a): _resolve(m, a) for m, names in _WATCHED for a in names}
        self._snap[("_pytest.reports.TestReport", "from_item_and_call")] = \
            _pytest.reports.TestReport.__dict__["from_item_and_call"]
        self._snap[("_pytest.runner.CallInfo", "from_call")] = _pytest.runner.CallInfo.__dict__["from_call"]
        self._snap[("pluggy._hooks.HookCaller", "__call__")] = pluggy._hooks.HookCaller.__dict__["__call__"]
        self._mods = {m: sys.modules.get(m) for m, _ in _WATCHED}
        self._own = {k: v for k, v in type(self).__dict__.items() if callable(v)}
        self._classes = (_pytest.reports.TestReport, _pytest.runner.CallInfo, pluggy._hooks.HookCaller)
        self._told: set[str] = set()

    def _send(self, obj: dict) -> None:
        try:
            self._write(self.fd, (self._dumps(obj) + "\n").encode())
        except OSError:
            pass

    def _check(self) -> None:
        why = []
        if sys.gettrace() is not None or sys.getprofile() is not None:
            why.append("a trace or profile hook is set")
        for (m, a), v in self._snap.items():
            if "." in m and m.rsplit(".", 1)[1][:1].isupper():
                cls = {c.__name__: c for c in self._classes}[m.rsplit(".", 1)[1]]
                now = cls.__dict__.get(a)
            else:
                now = _resolve(m, a)
            if now is not v:
                why.append(f"{m}.{a} was replaced")
        for m, mod in self._mods.items():
            if sys.modules.get(m) is not mod:
                why.append(f"module {m} was replaced")
        for k, v in self._own.items():
            if type(self).__dict__.get(k) is not v or k in self.__dict__:
                why.append(f"the report plugin's {k} was replaced")
        if os.write is not self._write or json.dumps is not self._dumps:
            why.append("os.write or json.dumps was replaced")
        for w in why:
            if w not in self._told:
                self._told.add(w)
                self._send({"t": "tamper", "why": w})

    def pytest_runtest_logreport(self, report) -> None:
        self._check()
        self._send({"t": "report", "id": report.nodeid, "when": report.when,
                    "outcome": report.outcome, "xfail": hasattr(report, "wasxfail")})

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self._send({"t": "collect_error", "id": report.nodeid})

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        self._check()
        self._send({"t": "end", "exitstatus": int(exitstatus)})
