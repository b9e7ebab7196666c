"""The public names of ``dgm``: exactly the documented ones, each importable, and
``import dgm`` stays light (no pydantic, git, torch)."""

import re
import subprocess
import sys
from pathlib import Path

import dgm

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = {
    "__version__", "Run", "RunSummary", "replay", "RunConfig", "ModelConfig", "RayConfig",
    "load_config", "open_archive", "ArchiveView", "Spend", "Agent", "load_suite", "DgmError",
    "ConfigError", "NotAnArchive", "UnknownAgent", "ArchiveLocked", "UnsafeTree",
}


def test_all_is_the_public_surface_and_every_name_resolves():
    assert set(dgm.__all__) == PUBLIC
    for name in dgm.__all__:
        assert getattr(dgm, name) is not None, name
    assert issubclass(dgm.ConfigError, dgm.DgmError) and issubclass(dgm.UnsafeTree, ValueError)


def test_dgm_replay_stays_callable_whatever_is_imported_first():
    """``dgm.replay`` is also a submodule: importing it must not shadow the function."""
    code = ("import dgm.replay, dgm; from dgm.cli import replay_cmds; "
            "print(callable(dgm.replay), hasattr(dgm.replay, 'TaskComparison'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.strip()
    assert out == "True True"
    assert callable(dgm.replay)


def test_every_public_name_is_documented_in_api_md():
    doc = (ROOT / "docs" / "api.md").read_text()
    missing = [n for n in PUBLIC - {"__version__"} if not re.search(rf"\b{n}\b", doc)]
    assert not missing, f"docs/api.md does not mention {missing}"


def test_import_dgm_is_light():
    code = "import sys, dgm; print(sorted(m for m in ('pydantic', 'git', 'torch', 'sqlite3', " \
           "'dgm.api', 'dgm.archive.store') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.strip()
    assert out == "[]"


def test_unknown_name_is_an_attribute_error():
    try:
        dgm.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("dgm.no_such_thing resolved")
