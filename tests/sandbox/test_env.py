"""Environment allow-list: only declared variables pass, on both backends."""

from __future__ import annotations

import json
import os

import pytest

from dgm.errors import ConfigError
from dgm.sandbox import Limits

pytestmark = pytest.mark.usefixtures("leaves_no_trace")
DUMP = "import json, os; print(json.dumps(dict(os.environ)))"


def test_only_declared_variables_reach_the_sandbox(sandbox, monkeypatch):
    host = {"OPENAI_API_KEY": "sk-host-secret", "HF_TOKEN": "hf-secret", "DB_SECRET": "db-secret",
            "SOME_SERVICE_KEY": "svc-secret", "DGM_DEBUG_TOKEN": "tok-secret", "PYTHONPATH": "/root/evil"}
    for k, v in host.items():
        monkeypatch.setenv(k, v)
    assert all(os.environ[k] == v for k, v in host.items())  # the host really has them
    r = sandbox.run(getattr(sandbox, "image", None) or "", ["python3", "-c", DUMP],
                    env={"TASK_ID": "t-1", "OPENAI_BASE_URL": "http://gateway/v1"}, limits=Limits(seconds=60))
    assert r.exit_code == 0, r
    env = json.loads(r.stdout)
    assert set(env) - {"PWD"} == {"PATH", "HOME", "TMPDIR", "LANG", "TASK_ID", "OPENAI_BASE_URL"}
    assert env["TASK_ID"] == "t-1" and env["HOME"] == "/tmp"
    assert not [k for k in env if k.endswith(("_KEY", "_TOKEN", "_SECRET"))]
    assert not any(v in r.stdout for v in host.values())


def test_bad_variable_names_are_refused(sandbox):
    for env in ({"A=B": "x"}, {"1X": "x"}, {"OK": "nul\0byte"}):
        with pytest.raises(ConfigError):
            sandbox.run(getattr(sandbox, "image", None) or "", ["true"], env=env)
